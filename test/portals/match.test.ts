import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PTL } from '../../kernel/portals/defs.ts';
import { type Entry, type Incoming, bitsMatch, matches, permission, place, search, walk } from '../../kernel/portals/match.ts';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

function entry(over: Partial<Entry> = {}): Entry {
  return { length: 64, options: PTL.ME_OP_PUT | PTL.ME_OP_GET, matchBits: 0n, ignoreBits: 0n, uid: PTL.UID_ANY, matchNid: PTL.NID_ANY, matchPid: PTL.PID_ANY, matchRank: PTL.RANK_ANY, minFree: 0, offset: 0, ...over };
}

function req(over: Partial<Incoming> = {}): Incoming {
  return { op: 'put', matchBits: 0n, rlength: 8, roffset: 0, uid: 1000, nid: 0, pid: 1, rank: 0, atomicType: PTL.UINT8_T, swapOp: PTL.SWAP, ...over };
}

describe('Portals matching', () => {
  it('follows ((incoming ^ match_bits) & ~ignore_bits) == 0 for any bits', () => {
    fc.assert(
      fc.property(u64, u64, u64, (inc, mb, ib) => {
        const want = ((inc ^ mb) & ~ib & ((1n << 64n) - 1n)) === 0n;
        expect(bitsMatch(inc, mb, ib)).toBe(want);
        // the reference's form: (incoming | ignore) == (match | ignore)
        expect(bitsMatch(inc, mb, ib)).toBe((inc | ib) === (mb | ib));
      }),
    );
  });

  it('ignores match bits on a non-matching NI but still checks the source', () => {
    expect(matches(req({ matchBits: 5n }), entry({ matchBits: 6n }), false, false)).toBe(true);
    expect(matches(req({ nid: 3 }), entry({ matchNid: 2 }), false, false)).toBe(false);
    expect(matches(req({ pid: 9 }), entry({ matchPid: 9 }), false, true)).toBe(true);
    expect(matches(req({ rank: 4 }), entry({ matchRank: 5 }), true, true)).toBe(false);
  });

  it('skips a NO_TRUNCATE entry too small for the message', () => {
    const e = entry({ length: 16, options: PTL.ME_OP_PUT | PTL.ME_NO_TRUNCATE });
    expect(matches(req({ rlength: 16 }), e, false, true)).toBe(true);
    expect(matches(req({ rlength: 8, roffset: 9 }), e, false, true)).toBe(false);
  });

  it('finds the first matching entry in list order', () => {
    const list = [entry({ matchBits: 1n }), entry({ matchBits: 2n }), entry({ matchBits: 2n, length: 8 })];
    expect(search(list, req({ matchBits: 2n }), false, true)).toBe(1);
    expect(search(list, req({ matchBits: 3n }), false, true)).toBe(-1);
  });

  it('walks the priority list before the overflow list, counting every entry it looks at', () => {
    const bits = fc.array(fc.bigInt({ min: 0n, max: 3n }), { maxLength: 6 });
    fc.assert(
      fc.property(bits, bits, fc.bigInt({ min: 0n, max: 3n }), (pb, ob, inc) => {
        const pri = pb.map((b) => entry({ matchBits: b }));
        const ovf = ob.map((b) => entry({ matchBits: b }));
        const m = req({ matchBits: inc });
        const w = walk(pri, ovf, m, false, true);
        const ip = search(pri, m, false, true);
        const io = search(ovf, m, false, true);
        if (ip >= 0) expect(w).toEqual({ entry: pri[ip], list: PTL.PRIORITY_LIST, steps: ip + 1 });
        else if (io >= 0) expect(w).toEqual({ entry: ovf[io], list: PTL.OVERFLOW_LIST, steps: pri.length + io + 1 });
        else expect(w).toEqual({ entry: undefined, list: PTL.OVERFLOW_LIST, steps: pri.length + ovf.length });
      }),
      { seed: 12, numRuns: 300 },
    );
  });

  it('checks uid and operation permissions as the reference does', () => {
    expect(permission(req(), entry({ uid: 7 }))).toBe(PTL.NI_PERM_VIOLATION);
    expect(permission(req({ op: 'get' }), entry({ options: PTL.ME_OP_PUT }))).toBe(PTL.NI_OP_VIOLATION);
    expect(permission(req({ op: 'swap' }), entry({ options: PTL.ME_OP_PUT }))).toBe(PTL.NI_OP_VIOLATION);
    expect(permission(req({ op: 'atomic' }), entry({ options: PTL.ME_OP_PUT }))).toBe(PTL.NI_OK);
  });

  it('never places data outside the entry, whatever the offsets and lengths', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4096 }),
        fc.integer({ min: 0, max: 8192 }),
        fc.integer({ min: 0, max: 8192 }),
        fc.constantFrom<Incoming['op']>('put', 'get', 'atomic', 'fetch', 'swap'),
        fc.boolean(),
        fc.integer({ min: 0, max: 4096 }),
        (length, rlength, roffset, op, local, used) => {
          const e = entry({ length, options: PTL.ME_OP_PUT | PTL.ME_OP_GET | (local ? PTL.ME_MANAGE_LOCAL : 0), offset: local ? Math.min(used, length) : 0 });
          const p = place(req({ op, rlength, roffset, atomicType: PTL.UINT64_T, swapOp: PTL.CSWAP }), e, { maxMsgSize: 4 << 20, maxAtomicSize: 256 });
          expect(p.mlength).toBeGreaterThanOrEqual(0);
          expect(p.mlength).toBeLessThanOrEqual(rlength);
          if (p.mlength > 0) expect(p.moffset + p.mlength).toBeLessThanOrEqual(length);
          if (op === 'atomic' || op === 'fetch') expect(p.mlength).toBeLessThanOrEqual(256);
          if (op === 'swap') expect(p.mlength).toBeLessThanOrEqual(8);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('advances a locally managed offset and unlinks below min_free or after one use', () => {
    const e = entry({ length: 100, options: PTL.ME_OP_PUT | PTL.ME_MANAGE_LOCAL, minFree: 30 });
    expect(place(req({ rlength: 50, roffset: 999 }), e, { maxMsgSize: 1 << 20, maxAtomicSize: 256 })).toEqual({ moffset: 0, mlength: 50, unlink: false });
    expect(place(req({ rlength: 40 }), e, { maxMsgSize: 1 << 20, maxAtomicSize: 256 })).toEqual({ moffset: 50, mlength: 40, unlink: true });
    expect(place(req(), entry({ options: PTL.ME_OP_PUT | PTL.ME_USE_ONCE }), { maxMsgSize: 1 << 20, maxAtomicSize: 256 }).unlink).toBe(true);
  });
});
