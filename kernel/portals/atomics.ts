// Portals atomic operations on every datatype, applied element by element
// to byte arrays (little-endian): MIN, MAX, SUM, PROD, the logical and
// bitwise ops, SWAP, the conditional swaps and MSWAP. Long double is the x86
// 80-bit extended format stored in 16 bytes; Margay computes it in double
// precision and converts on the way in and out (documented: results agree
// with 80-bit arithmetic to about 1e-16 relative).

import { PTL, TYPE_SIZE } from './defs.ts';

class AtomicError extends Error {}

// As in the reference's check_atomic/check_swap, only float/double and their
// complex forms are screened; the long double types are not.
const FLOATING = new Set<number>([PTL.FLOAT, PTL.DOUBLE]);
const COMPLEX = new Set<number>([PTL.FLOAT_COMPLEX, PTL.DOUBLE_COMPLEX]);

/** Per operation: floats allowed, complex allowed, a reduction (atomic/fetch), a swap, uses the operand. */
const OP_INFO: readonly (readonly [boolean, boolean, boolean, boolean, boolean])[] = [
  [true, false, true, false, false], // MIN
  [true, false, true, false, false], // MAX
  [true, true, true, false, false], // SUM
  [true, true, true, false, false], // PROD
  [false, false, true, false, false], // LOR
  [false, false, true, false, false], // LAND
  [false, false, true, false, false], // BOR
  [false, false, true, false, false], // BAND
  [false, false, true, false, false], // LXOR
  [false, false, true, false, false], // BXOR
  [true, true, false, true, false], // SWAP
  [true, true, false, true, true], // CSWAP
  [true, true, false, true, true], // CSWAP_NE
  [true, false, false, true, true], // CSWAP_LE
  [true, false, false, true, true], // CSWAP_LT
  [true, false, false, true, true], // CSWAP_GE
  [true, false, false, true, true], // CSWAP_GT
  [false, false, false, true, true], // MSWAP
];

/** Whether the reference implementation accepts `op` on `type` for PtlAtomic/PtlFetchAtomic (swap false) or PtlSwap (swap true). */
export function validAtomic(op: number, type: number, swap: boolean): boolean {
  const info = OP_INFO[op];
  if (info === undefined || type < 0 || type > PTL.LONG_DOUBLE_COMPLEX || !Number.isInteger(type)) return false;
  if (swap ? !info[3] : !info[2]) return false;
  if (FLOATING.has(type) && !info[0]) return false;
  if (COMPLEX.has(type) && !info[1]) return false;
  return true;
}

/** Whether a swap operation uses the operand (comparand or mask). */
export function usesOperand(op: number): boolean {
  return OP_INFO[op]?.[4] ?? false;
}

// ---- 80-bit extended <-> double ----

/** x * 2^n without overflowing or underflowing in the intermediate power. */
function ldexp(x: number, n: number): number {
  while (n > 1000) {
    x *= 2 ** 1000;
    n -= 1000;
  }
  while (n < -1000) {
    x *= 2 ** -1000;
    n += 1000;
  }
  return x * 2 ** n;
}

export function readF80(dv: DataView, at: number): number {
  const mant = dv.getBigUint64(at, true);
  const se = dv.getUint16(at + 8, true);
  const sign = se & 0x8000 ? -1 : 1;
  const exp = se & 0x7fff;
  if (exp === 0 && mant === 0n) return sign * 0;
  if (exp === 0x7fff) return (mant & 0x7fffffffffffffffn) === 0n ? sign * Infinity : NaN;
  return sign * ldexp(Number(mant), exp - 16383 - 63);
}

export function writeF80(dv: DataView, at: number, v: number): void {
  for (let i = 0; i < 16; i++) dv.setUint8(at + i, 0);
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === 0) {
    dv.setUint16(at + 8, sign, true);
    return;
  }
  if (!Number.isFinite(a)) {
    dv.setBigUint64(at, Number.isNaN(a) ? 0xc000000000000000n : 0x8000000000000000n, true);
    dv.setUint16(at + 8, sign | 0x7fff, true);
    return;
  }
  let e = Math.floor(Math.log2(a));
  if (ldexp(1, e) > a) e--;
  if (ldexp(1, e + 1) <= a) e++;
  // 64-bit mantissa with the explicit integer bit; a double's 53 bits fit exactly.
  const mant = BigInt(ldexp(a, 63 - e));
  dv.setBigUint64(at, mant, true);
  dv.setUint16(at + 8, sign | (e + 16383), true);
}

// ---- element access ----

type Num = bigint | number | [number, number];

function read(dv: DataView, at: number, type: number): Num {
  switch (type) {
    case PTL.INT8_T: return BigInt(dv.getInt8(at));
    case PTL.UINT8_T: return BigInt(dv.getUint8(at));
    case PTL.INT16_T: return BigInt(dv.getInt16(at, true));
    case PTL.UINT16_T: return BigInt(dv.getUint16(at, true));
    case PTL.INT32_T: return BigInt(dv.getInt32(at, true));
    case PTL.UINT32_T: return BigInt(dv.getUint32(at, true));
    case PTL.INT64_T: return dv.getBigInt64(at, true);
    case PTL.UINT64_T: return dv.getBigUint64(at, true);
    case PTL.FLOAT: return dv.getFloat32(at, true);
    case PTL.DOUBLE: return dv.getFloat64(at, true);
    case PTL.LONG_DOUBLE: return readF80(dv, at);
    case PTL.FLOAT_COMPLEX: return [dv.getFloat32(at, true), dv.getFloat32(at + 4, true)];
    case PTL.DOUBLE_COMPLEX: return [dv.getFloat64(at, true), dv.getFloat64(at + 8, true)];
    case PTL.LONG_DOUBLE_COMPLEX: return [readF80(dv, at), readF80(dv, at + 16)];
  }
  throw new AtomicError(`unknown datatype ${type}`);
}

function write(dv: DataView, at: number, type: number, v: Num): void {
  switch (type) {
    case PTL.INT8_T: case PTL.UINT8_T: dv.setUint8(at, Number(BigInt.asUintN(8, v as bigint))); return;
    case PTL.INT16_T: case PTL.UINT16_T: dv.setUint16(at, Number(BigInt.asUintN(16, v as bigint)), true); return;
    case PTL.INT32_T: case PTL.UINT32_T: dv.setUint32(at, Number(BigInt.asUintN(32, v as bigint)), true); return;
    case PTL.INT64_T: case PTL.UINT64_T: dv.setBigUint64(at, BigInt.asUintN(64, v as bigint), true); return;
    case PTL.FLOAT: dv.setFloat32(at, v as number, true); return;
    case PTL.DOUBLE: dv.setFloat64(at, v as number, true); return;
    case PTL.LONG_DOUBLE: writeF80(dv, at, v as number); return;
    case PTL.FLOAT_COMPLEX: dv.setFloat32(at, (v as [number, number])[0], true); dv.setFloat32(at + 4, (v as [number, number])[1], true); return;
    case PTL.DOUBLE_COMPLEX: dv.setFloat64(at, (v as [number, number])[0], true); dv.setFloat64(at + 8, (v as [number, number])[1], true); return;
    case PTL.LONG_DOUBLE_COMPLEX: writeF80(dv, at, (v as [number, number])[0]); writeF80(dv, at + 16, (v as [number, number])[1]); return;
  }
}

function truthy(v: Num): boolean {
  return Array.isArray(v) ? v[0] !== 0 || v[1] !== 0 : v !== 0n && v !== 0;
}

function less(a: Num, b: Num): boolean {
  return (a as number) < (b as number);
}

function equal(a: Num, b: Num): boolean {
  return Array.isArray(a) ? a[0] === (b as [number, number])[0] && a[1] === (b as [number, number])[1] : a === b;
}

/** target := target OP source (for reductions), element by element. */
function combine(op: number, t: Num, s: Num, type: number): Num {
  const int = typeof t === 'bigint';
  switch (op) {
    case PTL.MIN: return less(s, t) ? s : t;
    case PTL.MAX: return less(t, s) ? s : t;
    case PTL.SUM:
      if (Array.isArray(t)) return [t[0] + (s as [number, number])[0], t[1] + (s as [number, number])[1]];
      return int ? (t as bigint) + (s as bigint) : round(type, (t as number) + (s as number));
    case PTL.PROD:
      if (Array.isArray(t)) {
        const [a, b] = t;
        const [c, d] = s as [number, number];
        return [a * c - b * d, a * d + b * c];
      }
      return int ? (t as bigint) * (s as bigint) : round(type, (t as number) * (s as number));
    case PTL.LOR: return BigInt(truthy(t) || truthy(s));
    case PTL.LAND: return BigInt(truthy(t) && truthy(s));
    case PTL.LXOR: return BigInt(truthy(t) !== truthy(s));
    case PTL.BOR: return (t as bigint) | (s as bigint);
    case PTL.BAND: return (t as bigint) & (s as bigint);
    case PTL.BXOR: return (t as bigint) ^ (s as bigint);
  }
  throw new AtomicError(`operation ${op} is not a reduction`);
}

function round(type: number, v: number): number {
  return type === PTL.FLOAT ? Math.fround(v) : v;
}

/**
 * Applies an atomic to `target` with `source` (both `length` bytes). For
 * the swaps, `operand` (one element) is the comparand or mask. Returns the
 * target's previous contents (what fetch and swap send back).
 */
export function applyAtomic(op: number, type: number, target: Uint8Array, source: Uint8Array, operand: Uint8Array | null): Uint8Array {
  const size = TYPE_SIZE[type];
  if (size === undefined) throw new AtomicError(`unknown datatype ${type}`);
  const old = target.slice();
  const tdv = new DataView(target.buffer, target.byteOffset, target.byteLength);
  const sdv = new DataView(source.buffer, source.byteOffset, source.byteLength);
  const n = Math.floor(Math.min(target.length, source.length) / size);
  const cdv = operand ? new DataView(operand.buffer, operand.byteOffset, operand.byteLength) : null;
  const comparand = cdv && operand!.length >= size ? read(cdv, 0, type) : null;
  for (let i = 0; i < n; i++) {
    const at = i * size;
    const t = read(tdv, at, type);
    const s = read(sdv, at, type);
    let r: Num;
    switch (op) {
      // The conditional swaps compare the operand with the target (reference: op <= d).
      case PTL.SWAP: r = s; break;
      case PTL.CSWAP: r = equal(comparand!, t) ? s : t; break;
      case PTL.CSWAP_NE: r = !equal(comparand!, t) ? s : t; break;
      case PTL.CSWAP_LE: r = less(comparand!, t) || equal(comparand!, t) ? s : t; break;
      case PTL.CSWAP_LT: r = less(comparand!, t) ? s : t; break;
      case PTL.CSWAP_GE: r = less(t, comparand!) || equal(comparand!, t) ? s : t; break;
      case PTL.CSWAP_GT: r = less(t, comparand!) ? s : t; break;
      case PTL.MSWAP: {
        const mask = comparand as bigint;
        r = ((t as bigint) & ~mask) | ((s as bigint) & mask);
        break;
      }
      default: r = combine(op, t, s, type);
    }
    write(tdv, at, type, r);
  }
  return old;
}
