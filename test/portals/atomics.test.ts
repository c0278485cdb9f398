import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyAtomic, readF80, validAtomic, writeF80 } from '../../kernel/portals/atomics.ts';
import { PTL } from '../../kernel/portals/defs.ts';

function fill(bytes: number, f: (dv: DataView, at: number) => void, size: number): Uint8Array {
  const b = new Uint8Array(bytes);
  const dv = new DataView(b.buffer);
  for (let at = 0; at + size <= bytes; at += size) f(dv, at);
  return b;
}

describe('Portals atomics', () => {
  it('swap 10 INT8 elements and return the old ones (test_swap_all-001)', () => {
    const target = new Uint8Array(32).fill(0x4a);
    const old = applyAtomic(PTL.SWAP, PTL.INT8_T, target.subarray(0, 10), new Uint8Array(10).fill(0x83), new Uint8Array([0xae]));
    expect([...target.subarray(0, 11)]).toEqual([...new Array(10).fill(0x83), 0x4a]);
    expect([...old]).toEqual(new Array(10).fill(0x4a));
  });

  it('compare the operand with the target in conditional swaps (test_swap_logical_lb-001)', () => {
    const u32 = (v: number) => fill(4, (dv, at) => dv.setUint32(at, v, true), 4);
    const target = u32(0x25f91c24);
    // CSWAP_GT: operand 0x7041c7a0 > target 0x25f91c24, so the initiator's value goes in.
    applyAtomic(PTL.CSWAP_GT, PTL.UINT32_T, target, u32(0x6bcd8073), u32(0x7041c7a0));
    expect(new DataView(target.buffer).getUint32(0, true)).toBe(0x6bcd8073);
    const t2 = u32(5);
    applyAtomic(PTL.CSWAP_LT, PTL.UINT32_T, t2, u32(9), u32(7));
    expect(new DataView(t2.buffer).getUint32(0, true)).toBe(5);
  });

  it('multiplies long double complex numbers (test_atomic_all-050)', () => {
    const ldc = (re: number, im: number) => fill(32, (dv, at) => { writeF80(dv, at, re); writeF80(dv, at + 16, im); }, 32);
    const target = ldc(0.03473311556560383651, 0.23736008880417533429);
    applyAtomic(PTL.PROD, PTL.LONG_DOUBLE_COMPLEX, target, ldc(0.02083148626696195924, 0.0712366478738435116), null);
    const dv = new DataView(target.buffer);
    expect(readF80(dv, 0)).toBeCloseTo(-0.01618519464553358495, 12);
    expect(readF80(dv, 16)).toBeCloseTo(0.00741883415335748309, 12);
  });

  it('wraps integer sums and keeps signedness for MIN/MAX', () => {
    const i8 = (...v: number[]) => new Uint8Array(v.map((x) => x & 0xff));
    const t = i8(-5, 100, 127);
    applyAtomic(PTL.SUM, PTL.INT8_T, t, i8(3, 100, 1), null);
    expect([...new Int8Array(t.buffer)]).toEqual([-2, -56, -128]);
    const m = i8(-5, 3);
    applyAtomic(PTL.MAX, PTL.INT8_T, m, i8(2, -7), null);
    expect([...new Int8Array(m.buffer)]).toEqual([2, 3]);
    const u = i8(0xfb, 3);
    applyAtomic(PTL.MAX, PTL.UINT8_T, u, i8(2, 0xf9), null);
    expect([...u]).toEqual([0xfb, 0xf9]);
  });

  it('applies MSWAP under the operand mask', () => {
    const t = new Uint8Array([0b1010_1010]);
    applyAtomic(PTL.MSWAP, PTL.UINT8_T, t, new Uint8Array([0b0101_0101]), new Uint8Array([0b1111_0000]));
    expect(t[0]).toBe(0b0101_1010);
  });

  it('round-trips doubles through the 80-bit format', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (x) => {
        const b = new Uint8Array(16);
        const dv = new DataView(b.buffer);
        writeF80(dv, 0, x);
        expect(Object.is(readF80(dv, 0), x) || readF80(dv, 0) === x).toBe(true);
      }),
    );
    const b = new Uint8Array(16);
    writeF80(new DataView(b.buffer), 0, 1);
    expect([...b.subarray(0, 10)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f]);
  });

  it('accepts exactly the reference\'s operation/type combinations', () => {
    expect(validAtomic(PTL.BOR, PTL.DOUBLE, false)).toBe(false);
    expect(validAtomic(PTL.SUM, PTL.DOUBLE_COMPLEX, false)).toBe(true);
    expect(validAtomic(PTL.MIN, PTL.FLOAT_COMPLEX, false)).toBe(false);
    expect(validAtomic(PTL.CSWAP, PTL.FLOAT_COMPLEX, true)).toBe(true);
    expect(validAtomic(PTL.CSWAP_GT, PTL.FLOAT_COMPLEX, true)).toBe(false);
    expect(validAtomic(PTL.SWAP, PTL.INT8_T, false)).toBe(false);
    expect(validAtomic(PTL.SUM, PTL.INT8_T, true)).toBe(false);
  });
});
