import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJobBlock } from '../../kernel/job/jobblock.ts';
import { childrenOf, depthOf, parentOf, subtreeOf, treeDepth } from '../../userland/lib/fanout.ts';
import { type Fanout, decodeJobBlock, encodeJobBlock, parseFanout } from '../../userland/lib/jobblock.ts';

const fanouts = fc.oneof(
  fc.constant<Fanout>({ kind: 'flat' }),
  fc.constant<Fanout>({ kind: 'flat-concurrent' }),
  fc.constant<Fanout>({ kind: 'binomial' }),
  fc.integer({ min: 1, max: 9 }).map((arity): Fanout => ({ kind: 'tree', arity })),
);

describe('fan-out trees', () => {
  it('reach every rank exactly once from rank 0, each child naming its parent', () => {
    fc.assert(
      fc.property(fanouts, fc.integer({ min: 1, max: 300 }), (f, size) => {
        const all = subtreeOf(f, 0, size).sort((a, b) => a - b);
        expect(all).toEqual(Array.from({ length: size }, (_, i) => i));
        for (let r = 0; r < size; r++) for (const c of childrenOf(f, r, size)) expect(parentOf(f, c)).toBe(r);
        let deepest = 0;
        for (let r = 0; r < size; r++) deepest = Math.max(deepest, depthOf(f, r));
        expect(treeDepth(f, size)).toBe(deepest);
      }),
      { numRuns: 300, seed: 3 },
    );
  });

  it('gain a level past each power of two for binomial and stay one level deep for flat', () => {
    expect([1, 2, 3, 4, 5, 8, 9, 16, 17].map((n) => treeDepth({ kind: 'binomial' }, n))).toEqual([0, 1, 1, 2, 2, 3, 3, 4, 4]);
    expect(treeDepth({ kind: 'flat' }, 1024)).toBe(1);
    expect(childrenOf({ kind: 'binomial' }, 0, 16)).toEqual([8, 4, 2, 1]);
    expect(childrenOf({ kind: 'tree', arity: 3 }, 1, 20)).toEqual([4, 5, 6]);
  });

  it('are named on the command line as flat, flat-concurrent, tree:K and binomial', () => {
    expect(parseFanout('tree:4')).toEqual({ kind: 'tree', arity: 4 });
    expect(parseFanout('binomial')).toEqual({ kind: 'binomial' });
    for (const bad of ['tree', 'tree:0', 'star', 'tree:x']) expect(parseFanout(bad)).toBeNull();
  });
});

describe('the job block', () => {
  const params = {
    jobId: 7,
    pid: 100,
    fanout: { kind: 'tree', arity: 4 } as Fanout,
    mode: 'two-phase' as const,
    serviceNid: 99,
    servicePid: 1,
    initLen: 5000,
    timeoutUs: 1_000_000,
    startUs: 12,
    ranges: [
      { firstNid: 0, count: 40, image: 0 },
      { firstNid: 50, count: 8, image: 1 },
    ],
    images: [
      { offset: 0, length: 3000 },
      { offset: 4096, length: 2000 },
    ],
    storeBytes: 8192,
    argv: ['hello', 'a b'],
    envp: ['X=1'],
  };

  it('round-trips through yod\'s writer, crt0\'s reader and the kernel\'s parser', () => {
    const b = encodeJobBlock(params);
    const d = decodeJobBlock(b);
    expect(d).toMatchObject({ ...params, size: 48, bytes: b.length });
    const k = parseJobBlock(b, 100);
    expect(k.ok).toBe(true);
    if (k.ok) expect(k.block).toMatchObject({ jobId: 7, pid: 100, size: 48, argv: ['hello', 'a b'], envp: ['X=1'] });
  });

  it('is refused by the kernel when a range leaves the machine, the counts lie or it is cut short', () => {
    const reason = (b: Uint8Array, nodes = 100) => {
      const r = parseJobBlock(b, nodes);
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason(encodeJobBlock(params), 55)).toMatch(/range 1 \(nodes 50..57\) is outside the machine/);
    expect(reason(encodeJobBlock(params).subarray(0, 100))).toMatch(/says \d+ bytes, has 100/);
    const lie = encodeJobBlock(params);
    new DataView(lie.buffer).setUint32(4 * 5, 49, true);
    expect(reason(lie)).toMatch(/ranges cover 48 ranks, the job has 49/);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), (junk) => {
        expect(() => parseJobBlock(junk, 100)).not.toThrow();
      }),
      { numRuns: 300, seed: 5 },
    );
  });
});
