// The verifier's abstract values: a register is uninitialised, a scalar
// with a signed 64-bit range, or a pointer into a region with an offset
// range. Joins, widening, the abstract ALU, constant folding exactly as the
// engines compute, and the narrowing a branch gives.

import { conditionHolds, conditionOf } from './conditions.ts';
import { ALU_OPS, BPF_ALU64, BPF_X, CODE_MASK, MODE_MASK, MODE_MEMSX, cls } from './isa.ts';
import { VerifyError } from './hookspec.ts';
export const I64_MIN = -(2n ** 63n);
export const I64_MAX = 2n ** 63n - 1n;
export const U32_MAX = 2n ** 32n - 1n;
/** Pointer offsets beyond this become -Infinity / +Infinity ("unbounded"), and stay so. */
const OFF_LIMIT = 2 ** 40;

export type Reg =
  | { readonly t: 'uninit' }
  | { readonly t: 'scalar'; readonly min: bigint; readonly max: bigint }
  | { readonly t: 'ptr'; readonly region: number; readonly min: number; readonly max: number };

export const UNINIT: Reg = { t: 'uninit' };
export const UNKNOWN: Reg = { t: 'scalar', min: I64_MIN, max: I64_MAX };
export const scalar = (min: bigint, max: bigint): Reg => (min > max || min < I64_MIN || max > I64_MAX ? UNKNOWN : { t: 'scalar', min, max });
export const konst = (v: bigint): Reg => ({ t: 'scalar', min: BigInt.asIntN(64, v), max: BigInt.asIntN(64, v) });

export function sameReg(a: Reg, b: Reg): boolean {
  if (a.t !== b.t) return false;
  if (a.t === 'scalar' && b.t === 'scalar') return a.min === b.min && a.max === b.max;
  if (a.t === 'ptr' && b.t === 'ptr') return a.region === b.region && a.min === b.min && a.max === b.max;
  return true;
}

export function joinReg(a: Reg, b: Reg, widen: boolean): Reg {
  if (a.t === 'scalar' && b.t === 'scalar') {
    if (widen && (b.min < a.min || b.max > a.max)) return UNKNOWN;
    return scalar(a.min < b.min ? a.min : b.min, a.max > b.max ? a.max : b.max);
  }
  if (a.t === 'ptr' && b.t === 'ptr' && a.region === b.region) {
    if (widen && (b.min < a.min || b.max > a.max)) return { t: 'ptr', region: a.region, min: b.min < a.min ? -Infinity : a.min, max: b.max > a.max ? Infinity : a.max };
    return { t: 'ptr', region: a.region, min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) };
  }
  return UNINIT;
}

export function loadedScalar(op: number, size: number): Reg {
  const signed = (op & MODE_MASK) === MODE_MEMSX;
  if (size === 8) return UNKNOWN;
  const bits = BigInt(size * 8);
  return signed ? scalar(-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n) : scalar(0n, (1n << bits) - 1n);
}

/** The abstract result of an ALU operation. */
export function alu(pc: number, op: number, off: number, imm: number, wide: boolean, dst: Reg, srcv: Reg, need: (r: number) => Reg): Reg {
  const code = op & CODE_MASK;
  if (code === ALU_OPS.mov) {
    // mov: copies a pointer whole; sign extension makes a scalar.
    if (!wide || off !== 0) return srcv.t === 'ptr' ? (() => { throw new VerifyError(pc, 'partial copy of a pointer'); })() : truncate(signExtendMov(srcv, off, wide), wide);
    return srcv;
  }
  if (code === ALU_OPS.end) {
    if (dst.t === 'uninit') throw new VerifyError(pc, 'byte swap of an uninitialised register');
    if (dst.t === 'ptr') throw new VerifyError(pc, 'byte swap of a pointer');
    if (dst.min === dst.max) return konst(swapConst(op, imm, dst.min, wide));
    return imm === 64 ? UNKNOWN : scalar(0n, (1n << BigInt(imm)) - 1n);
  }
  if (dst.t === 'uninit') throw new VerifyError(pc, 'arithmetic on an uninitialised register');
  if (code === ALU_OPS.neg) {
    if (dst.t === 'ptr') throw new VerifyError(pc, 'negating a pointer');
    return truncate(dst.min === dst.max ? konst(-dst.min) : UNKNOWN, wide);
  }
  if (dst.t === 'ptr' || srcv.t === 'ptr') {
    if (!wide) throw new VerifyError(pc, '32-bit arithmetic on a pointer');
    if (dst.t === 'ptr' && srcv.t === 'scalar' && (code === ALU_OPS.add || code === ALU_OPS.sub)) {
      const lo = code === ALU_OPS.add ? srcv.min : -srcv.max;
      const hi = code === ALU_OPS.add ? srcv.max : -srcv.min;
      return { t: 'ptr', region: dst.region, min: offsetPlus(dst.min, lo), max: offsetPlus(dst.max, hi) };
    }
    if (dst.t === 'scalar' && srcv.t === 'ptr' && code === ALU_OPS.add) return alu(pc, op, off, imm, wide, srcv, dst, need);
    if (dst.t === 'ptr' && srcv.t === 'ptr' && code === ALU_OPS.sub && dst.region === srcv.region) {
      if (![dst.min, dst.max, srcv.min, srcv.max].every(Number.isFinite)) return UNKNOWN;
      return scalar(BigInt(dst.min - srcv.max), BigInt(dst.max - srcv.min));
    }
    throw new VerifyError(pc, `${aluName(code)} on a pointer (only adding or subtracting a number, or subtracting two pointers into one region)`);
  }
  if (dst.t !== 'scalar' || srcv.t !== 'scalar') throw new VerifyError(pc, 'arithmetic on an uninitialised register');
  if (dst.min === dst.max && srcv.min === srcv.max) return konst(constAlu(code, off, dst.min, srcv.min, wide));
  // A 32-bit operation sees only the low words: range both operands over those first.
  const a = wide ? dst : low32(dst);
  const b = wide ? srcv : low32(srcv);
  const w = (r: Reg) => truncate(r, wide);
  const bits = wide ? 64n : 32n;
  switch (code) {
    case ALU_OPS.add: return w(scalar(a.min + b.min, a.max + b.max));
    case ALU_OPS.sub: return w(scalar(a.min - b.max, a.max - b.min));
    case ALU_OPS.and: // and with a non-negative mask bounds the result
      if (b.min === b.max && b.min >= 0n) return scalar(0n, wide ? b.min : b.min & U32_MAX);
      if (a.min >= 0n && b.min >= 0n) return scalar(0n, a.max < b.max ? a.max : b.max);
      return w(UNKNOWN);
    case ALU_OPS.mul:
      if (a.min >= 0n && b.min >= 0n) return w(scalar(a.min * b.min, a.max * b.max));
      return w(UNKNOWN);
    case ALU_OPS.lsh:
      // A left shift of a non-negative range is exact while nothing reaches the sign bit.
      if (b.min === b.max && a.min >= 0n) {
        const k = b.min & (bits - 1n);
        if (a.max << k < 1n << (bits - 1n)) return scalar(a.min << k, a.max << k);
      }
      return w(UNKNOWN);
    case ALU_OPS.rsh:
      if (b.min === b.max) {
        const k = b.min & (bits - 1n);
        if (a.min >= 0n) return scalar(a.min >> k, a.max >> k);
        // Any 64-bit value shifted right by k has 64 - k significant bits.
        if (k > 0n) return scalar(0n, (1n << (bits - k)) - 1n);
      }
      return w(UNKNOWN);
    case ALU_OPS.arsh:
      if (wide && b.min === b.max) {
        const k = b.min & 63n;
        return scalar(a.min >> k, a.max >> k);
      }
      return w(UNKNOWN);
    case ALU_OPS.mod:
      if (off === 0 && b.min === b.max && b.min > 0n) return scalar(0n, b.min - 1n);
      return w(UNKNOWN);
    case ALU_OPS.div:
      if (off === 0 && a.min >= 0n && b.min > 0n) return scalar(a.min / b.max, a.max / b.min);
      return w(UNKNOWN);
    default:
      return w(UNKNOWN);
  }
}

function aluName(code: number): string {
  return ({ [ALU_OPS.mul]: 'multiplication', [ALU_OPS.div]: 'division', [ALU_OPS.or]: 'or', [ALU_OPS.and]: 'and', [ALU_OPS.lsh]: 'shift', [ALU_OPS.rsh]: 'shift', [ALU_OPS.mod]: 'modulo', [ALU_OPS.xor]: 'xor', [ALU_OPS.arsh]: 'shift' } as Record<number, string>)[code] ?? 'this operation';
}

/** A register's low 32 bits as an unsigned range. */
function low32(r: Extract<Reg, { t: 'scalar' }>): Extract<Reg, { t: 'scalar' }> {
  if (r.min === r.max) return { t: 'scalar', min: BigInt.asUintN(32, r.min), max: BigInt.asUintN(32, r.min) };
  if (r.min >= 0n && r.max <= U32_MAX) return r;
  return { t: 'scalar', min: 0n, max: U32_MAX };
}

/** A pointer offset plus a scalar: exact within +-OFF_LIMIT, infinite (and sticky) past it. */
function offsetPlus(o: number, d: bigint): number {
  if (!Number.isFinite(o)) return o;
  const v = BigInt(o) + d;
  return v < -BigInt(OFF_LIMIT) ? -Infinity : v > BigInt(OFF_LIMIT) ? Infinity : Number(v);
}

function truncate(r: Reg, wide: boolean): Reg {
  if (wide || r.t !== 'scalar') return r;
  if (r.min === r.max) return konst(BigInt.asUintN(32, r.min));
  if (r.min >= 0n && r.max <= U32_MAX) return r;
  return scalar(0n, U32_MAX);
}

function signExtendMov(v: Reg, off: number, wide: boolean): Reg {
  if (v.t !== 'scalar') return v;
  if (off === 0) return v;
  if (v.min === v.max) {
    const x = BigInt.asIntN(off, v.min);
    return konst(wide ? x : BigInt.asUintN(32, x));
  }
  const half = 1n << BigInt(off - 1);
  return wide ? scalar(-half, half - 1n) : scalar(0n, U32_MAX);
}

function swapConst(op: number, imm: number, v: bigint, _wide: boolean): bigint {
  const u = BigInt.asUintN(64, v);
  const bytes = imm / 8;
  const toBe = (op & BPF_X) !== 0 || cls(op) === BPF_ALU64;
  const trunc = BigInt.asUintN(imm, u);
  if (!toBe) return trunc;
  let out = 0n;
  for (let i = 0; i < bytes; i++) out = (out << 8n) | ((trunc >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** Exact 64-bit (or 32-bit) arithmetic on constants, as the engines compute it. */
function constAlu(code: number, off: number, a: bigint, b: bigint, wide: boolean): bigint {
  const bits = wide ? 64 : 32;
  const U = (v: bigint) => BigInt.asUintN(bits, v);
  const S = (v: bigint) => BigInt.asIntN(bits, v);
  const ua = U(a);
  const ub = U(b);
  let r: bigint;
  switch (code) {
    case ALU_OPS.add: r = ua + ub; break;
    case ALU_OPS.sub: r = ua - ub; break;
    case ALU_OPS.mul: r = ua * ub; break;
    case ALU_OPS.div: r = ub === 0n ? 0n : off ? S(a) / S(b) : ua / ub; break;
    case ALU_OPS.mod: r = ub === 0n ? ua : off ? S(a) % S(b) : ua % ub; break;
    case ALU_OPS.or: r = ua | ub; break;
    case ALU_OPS.and: r = ua & ub; break;
    case ALU_OPS.xor: r = ua ^ ub; break;
    case ALU_OPS.lsh: r = ua << (ub & BigInt(bits - 1)); break;
    case ALU_OPS.rsh: r = ua >> (ub & BigInt(bits - 1)); break;
    case ALU_OPS.arsh: r = S(a) >> (ub & BigInt(bits - 1)); break;
    default: r = 0n;
  }
  return wide ? BigInt.asIntN(64, r) : BigInt.asUintN(32, r);
}

/** true: always taken; false: never taken; null: either. Constants are compared exactly as the engines compare them. */
export function decide(op: number, a: Reg, b: Reg): boolean | null {
  if (a.t !== 'scalar' || b.t !== 'scalar' || a.min !== a.max || b.min !== b.max) return null;
  const hi = (v: bigint) => Number(BigInt.asIntN(32, v >> 32n));
  const lo = (v: bigint) => Number(BigInt.asIntN(32, v));
  return conditionHolds(op, lo(a.min), hi(a.min), lo(b.min), hi(b.min));
}

/** Narrows a register's range on one side of a branch against a constant. */
export function refine(s: { regs: Reg[] }, op: number, d: number, k: bigint | null, taken: boolean, narrow: boolean): void {
  if (narrow || k === null) return;
  const a = s.regs[d];
  if (a.t !== 'scalar') return;
  // Unsigned and signed comparisons agree when both sides are non-negative.
  const cond = conditionOf(op);
  const unsignedOk = a.min >= 0n && k >= 0n;
  const signed = cond === 'jsgt' || cond === 'jsge' || cond === 'jslt' || cond === 'jsle';
  if (!signed && !unsignedOk && cond !== 'jeq' && cond !== 'jne') return;
  let min = a.min;
  let max = a.max;
  const gt = cond === 'jgt' || cond === 'jsgt';
  const ge = cond === 'jge' || cond === 'jsge';
  const lt = cond === 'jlt' || cond === 'jslt';
  const le = cond === 'jle' || cond === 'jsle';
  if (cond === 'jeq' || cond === 'jne') {
    if ((cond === 'jeq') === taken) {
      min = k;
      max = k;
    } else return;
  } else if ((gt && taken) || (le && !taken)) min = k + 1n > min ? k + 1n : min;
  else if ((ge && taken) || (lt && !taken)) min = k > min ? k : min;
  else if ((lt && taken) || (ge && !taken)) max = k - 1n < max ? k - 1n : max;
  else if ((le && taken) || (gt && !taken)) max = k < max ? k : max;
  s.regs[d] = min > max ? a : scalar(min, max);
}
