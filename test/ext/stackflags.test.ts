// The verifier's stack flags are shared copy-on-write between forked states:
// a write to one state must never show in another, whatever the order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StackFlags } from '../../kernel/ext/stackflags.ts';

const BYTES = 256;
type Op = { kind: 'write' | 'clear' | 'spill' | 'drop'; who: number; lo: number; len: number; v: number } | { kind: 'fork'; who: number };

/** The plain model: a byte array and a map, copied whole on fork. */
interface Model {
  bytes: Uint8Array;
  spills: Map<number, number>;
}

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('write' as const, 'clear' as const, 'spill' as const, 'drop' as const), who: fc.nat(7), lo: fc.nat(BYTES - 1), len: fc.integer({ min: 1, max: 24 }), v: fc.nat(3) }),
  fc.record({ kind: fc.constant('fork' as const), who: fc.nat(7) }),
);

describe('stack flags', () => {
  it('keep every forked copy independent of writes to the others (checked against whole copies)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const real = [new StackFlags<number>(BYTES)];
        const model: Model[] = [{ bytes: new Uint8Array(BYTES), spills: new Map() }];
        for (const o of ops) {
          const i = o.who % real.length;
          const m = model[i];
          if (o.kind === 'fork') {
            real.push(real[i].fork());
            model.push({ bytes: m.bytes.slice(), spills: new Map(m.spills) });
            continue;
          }
          const lo = o.lo;
          const hi = Math.min(BYTES, lo + o.len);
          if (o.kind === 'write' || o.kind === 'clear') {
            real[i].setWritten(lo, hi, o.kind === 'write');
            m.bytes.fill(o.kind === 'write' ? 1 : 0, lo, hi);
          } else if (o.kind === 'spill') {
            const at = lo & ~7;
            if (at + 8 > BYTES) continue;
            real[i].setSpill(at, o.v);
            m.spills.set(at, o.v);
          } else {
            real[i].dropSpills(lo, hi);
            for (const at of [...m.spills.keys()]) if (at < hi && at + 8 > lo) m.spills.delete(at);
          }
        }
        real.forEach((r, i) => {
          for (let b = 0; b < BYTES; b++) expect(r.firstUnwritten(b, b + 1) === -1).toBe(model[i].bytes[b] === 1);
          for (let at = 0; at < BYTES; at += 8) expect(r.spill(at)).toBe(model[i].spills.get(at));
        });
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('meet keeps only what both sides hold, and says whether it changed anything', () => {
    const a = new StackFlags<number>(BYTES);
    a.setWritten(0, 16, true);
    a.setSpill(0, 1);
    a.setSpill(8, 2);
    const b = a.fork();
    expect(b.meet(a, (x, y) => x === y)).toBe(false);
    b.setWritten(4, 8, false);
    b.setSpill(8, 3);
    expect(a.meet(b, (x, y) => x === y)).toBe(true);
    expect(a.firstUnwritten(0, 16)).toBe(4);
    expect(a.spill(0)).toBe(1);
    expect(a.spill(8)).toBeUndefined();
    expect(b.spill(8)).toBe(3);
  });
});
