// The eBPF interpreter: executes a decoded program instruction by
// instruction over (hi, lo) register pairs, with local calls, helpers and an
// instruction budget. `run(limit)` stops after `limit` instructions so the
// monitor can step one instruction at a time; the state stays in the object.
// Case labels are number literals (V8 compiles such a switch into a jump
// table) named by `satisfies Op<'NAME'>`, which tsc checks against isa.ts's
// OP and esbuild erases; conditional jumps evaluate conditions.ts's table.

import { RES, bswap16, bswap32, mul64, sdiv32, sdiv64, smod32, smod64, udiv32, udiv64, umod32, umod64 } from './ops64.ts';
import { conditionHolds } from './conditions.ts';
import { ATOMIC, BPF_X, CODE_MASK, type Op, type Program, SIZE, SIZE_BYTES, SIZE_MASK, isConditionalJump } from './isa.ts';
import { STACK_BYTES, STACK_FRAME, STACK_REGION, type VmMemory, VmFault, MAX_CALL_DEPTH } from './vmmem.ts';

/** Registers as a helper sees them. */
export interface RegView {
  get(r: number): bigint;
  set(r: number, v: bigint): void;
}

export interface VmHelper {
  readonly id: number;
  readonly name: string;
  /** Reads r1..r5 and returns the value for r0. */
  call(regs: RegView, mem: VmMemory): bigint;
  /** The suite's "unwind": a zero result stops the program (r0 = 0). */
  readonly unwindOnZero?: boolean;
}

/** A register view over (lo, hi) arrays. */
export function regView(L: Int32Array, H: Int32Array): RegView {
  return {
    get: (r) => (BigInt(H[r] >>> 0) << 32n) | BigInt(L[r] >>> 0),
    set: (r, v) => {
      const u = BigInt.asUintN(64, v);
      H[r] = Number(BigInt.asIntN(32, u >> 32n));
      L[r] = Number(BigInt.asIntN(32, u));
    },
  };
}

/** An atomic read-modify-write at (hi, lo) with register `src` (and r0 for cmpxchg). */
export function atomicOp(mem: VmMemory, L: Int32Array, H: Int32Array, op: number, hi: number, lo: number, src: number, imm: number, pc: number): void {
  const wide = (op & SIZE_MASK) === SIZE.dw;
  const r = mem.region(hi, lo, wide ? 8 : 4, true, pc);
  const at = lo >>> 0;
  const regs = regView(L, H);
  const mask = wide ? 0xffffffffffffffffn : 0xffffffffn;
  const old = wide ? r.dv.getBigUint64(at, true) : BigInt(r.dv.getUint32(at, true));
  const v = regs.get(src) & mask;
  let next = old;
  switch (imm & CODE_MASK) {
    case ATOMIC.add: next = (old + v) & mask; break;
    case ATOMIC.or: next = old | v; break;
    case ATOMIC.and: next = old & v; break;
    case ATOMIC.xor: next = old ^ v; break;
    case ATOMIC.xchg & CODE_MASK: next = v; break;
    case ATOMIC.cmpxchg & CODE_MASK: next = (regs.get(0) & mask) === old ? v : old; break;
  }
  if (wide) r.dv.setBigUint64(at, next, true);
  else r.dv.setUint32(at, Number(next), true);
  if (imm === ATOMIC.cmpxchg) regs.set(0, old);
  else if (imm & ATOMIC.fetch) regs.set(src, old);
}

/** Calls helper `id`: r0 gets its result, r1..r5 are clobbered. Returns true if the program must stop. */
export function callHelper(helpers: ReadonlyMap<number, VmHelper>, mem: VmMemory, L: Int32Array, H: Int32Array, id: number, pc: number): boolean {
  const h = helpers.get(id);
  if (h === undefined) throw new VmFault(pc, `call to unknown helper ${id}`);
  const regs = regView(L, H);
  const v = h.call(regs, mem);
  regs.set(0, v);
  for (let r = 1; r <= 5; r++) {
    L[r] = 0;
    H[r] = 0;
  }
  return h.unwindOnZero === true && BigInt.asUintN(64, v) === 0n;
}

export type VmStatus =
  | { readonly kind: 'exit'; readonly r0: bigint }
  | { readonly kind: 'limit' }
  | { readonly kind: 'fault'; readonly pc: number; readonly message: string };

export class Vm {
  readonly lo = new Int32Array(11);
  readonly hi = new Int32Array(11);
  pc = 0;
  /** Instructions executed so far. */
  insns = 0;
  /** Local-call frames: return pc and the caller's r6..r10. */
  private readonly frames: { ret: number; saved: Int32Array }[] = [];
  finished: VmStatus | null = null;

  constructor(
    readonly prog: Program,
    readonly mem: VmMemory,
    readonly helpers: ReadonlyMap<number, VmHelper>,
  ) {
    this.hi[10] = STACK_REGION;
    this.lo[10] = STACK_BYTES;
  }

  /** Sets register r to a 64-bit value. */
  set(r: number, v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.hi[r] = Number(BigInt.asIntN(32, u >> 32n));
    this.lo[r] = Number(BigInt.asIntN(32, u));
  }

  get(r: number): bigint {
    return (BigInt(this.hi[r] >>> 0) << 32n) | BigInt(this.lo[r] >>> 0);
  }

  /** A pointer value into region `id` at `offset`. */
  static pointer(id: number, offset: number): bigint {
    return (BigInt(id) << 32n) | BigInt(offset >>> 0);
  }

  /** Continues a run handed over at `pc` with these call frames ([l6, h6, .., l10, h10, ret] each, outermost first). */
  restore(pc: number, frames: readonly (readonly number[])[]): void {
    this.pc = pc;
    this.frames.length = 0;
    for (const f of frames) this.frames.push({ ret: f[10], saved: Int32Array.from(f.slice(0, 10)) });
  }

  get depth(): number {
    return this.frames.length;
  }

  /** Runs until exit, a fault, or `limit` more instructions. */
  run(limit = Infinity): VmStatus {
    if (this.finished) return this.finished;
    const p = this.prog;
    const OP = p.op;
    const DST = p.dst;
    const SRC = p.src;
    const OFF = p.off;
    const IMM = p.imm;
    const L = this.lo;
    const H = this.hi;
    const mem = this.mem;
    const STK = mem.regions[STACK_REGION - 1].dv;
    let pc = this.pc;
    let n = 0;
    try {
      while (n < limit) {
        if (pc < 0 || pc >= p.length) throw new VmFault(pc, 'fell off the program');
        const op = OP[pc];
        const d = DST[pc];
        const s = SRC[pc];
        const off = OFF[pc];
        const imm = IMM[pc];
        n++;
        pc++;
        switch (op) {
          // ---- ALU64, immediate ----
          case 0x07 satisfies Op<'ADD64_IMM'>: { const bl = imm; const bh = imm >> 31; const al = L[d]; L[d] = (al + bl) | 0; H[d] = (H[d] + bh + ((al >>> 0) + (bl >>> 0) > 0xffffffff ? 1 : 0)) | 0; break; }
          case 0x17 satisfies Op<'SUB64_IMM'>: { const bl = imm; const bh = imm >> 31; const al = L[d]; L[d] = (al - bl) | 0; H[d] = (H[d] - bh - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0; break; }
          case 0x27 satisfies Op<'MUL64_IMM'>: mul64(H[d], L[d], imm >> 31, imm); H[d] = RES[0]; L[d] = RES[1]; break;
          case 0x37 satisfies Op<'DIV64_IMM'>: if (off) sdiv64(H[d], L[d], imm >> 31, imm); else udiv64(H[d], L[d], imm >> 31, imm); H[d] = RES[0]; L[d] = RES[1]; break;
          case 0x47 satisfies Op<'OR64_IMM'>: L[d] |= imm; H[d] |= imm >> 31; break;
          case 0x57 satisfies Op<'AND64_IMM'>: L[d] &= imm; H[d] &= imm >> 31; break;
          case 0x67 satisfies Op<'LSH64_IMM'>: {
            const k = imm & 63;
            if (k === 0) break;
            if (k < 32) { H[d] = (H[d] << k) | (L[d] >>> (32 - k)); L[d] <<= k; } else { H[d] = L[d] << (k - 32); L[d] = 0; }
            break;
          }
          case 0x77 satisfies Op<'RSH64_IMM'>: {
            const k = imm & 63;
            if (k === 0) break;
            if (k < 32) { L[d] = (L[d] >>> k) | (H[d] << (32 - k)); H[d] = (H[d] >>> k) | 0; } else { L[d] = (H[d] >>> (k - 32)) | 0; H[d] = 0; }
            break;
          }
          case 0x87 satisfies Op<'NEG64'>: { const al = L[d]; L[d] = -al | 0; H[d] = (~H[d] + (al === 0 ? 1 : 0)) | 0; break; }
          case 0x97 satisfies Op<'MOD64_IMM'>: if (off) smod64(H[d], L[d], imm >> 31, imm); else umod64(H[d], L[d], imm >> 31, imm); H[d] = RES[0]; L[d] = RES[1]; break;
          case 0xa7 satisfies Op<'XOR64_IMM'>: L[d] ^= imm; H[d] ^= imm >> 31; break;
          case 0xb7 satisfies Op<'MOV64_IMM'>: L[d] = imm; H[d] = imm >> 31; break;
          case 0xc7 satisfies Op<'ARSH64_IMM'>: this.arsh(d, imm & 63); break;
          // ---- ALU64, register ----
          case 0x0f satisfies Op<'ADD64_REG'>: { const al = L[d]; const bl = L[s]; L[d] = (al + bl) | 0; H[d] = (H[d] + H[s] + ((al >>> 0) + (bl >>> 0) > 0xffffffff ? 1 : 0)) | 0; break; }
          case 0x1f satisfies Op<'SUB64_REG'>: { const al = L[d]; const bl = L[s]; L[d] = (al - bl) | 0; H[d] = (H[d] - H[s] - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0; break; }
          case 0x2f satisfies Op<'MUL64_REG'>: mul64(H[d], L[d], H[s], L[s]); H[d] = RES[0]; L[d] = RES[1]; break;
          case 0x3f satisfies Op<'DIV64_REG'>: if (off) sdiv64(H[d], L[d], H[s], L[s]); else udiv64(H[d], L[d], H[s], L[s]); H[d] = RES[0]; L[d] = RES[1]; break;
          case 0x4f satisfies Op<'OR64_REG'>: L[d] |= L[s]; H[d] |= H[s]; break;
          case 0x5f satisfies Op<'AND64_REG'>: L[d] &= L[s]; H[d] &= H[s]; break;
          case 0x6f satisfies Op<'LSH64_REG'>: this.lsh(d, L[s] & 63); break;
          case 0x7f satisfies Op<'RSH64_REG'>: this.rsh(d, L[s] & 63); break;
          case 0x9f satisfies Op<'MOD64_REG'>: if (off) smod64(H[d], L[d], H[s], L[s]); else umod64(H[d], L[d], H[s], L[s]); H[d] = RES[0]; L[d] = RES[1]; break;
          case 0xaf satisfies Op<'XOR64_REG'>: L[d] ^= L[s]; H[d] ^= H[s]; break;
          case 0xbf satisfies Op<'MOV64_REG'>:
            if (off === 0) { L[d] = L[s]; H[d] = H[s]; }
            else if (off === 8) { L[d] = (L[s] << 24) >> 24; H[d] = L[d] >> 31; }
            else if (off === 16) { L[d] = (L[s] << 16) >> 16; H[d] = L[d] >> 31; }
            else { L[d] = L[s]; H[d] = L[s] >> 31; }
            break;
          case 0xcf satisfies Op<'ARSH64_REG'>: this.arsh(d, L[s] & 63); break;
          // ---- ALU32 ----
          case 0x04 satisfies Op<'ADD32_IMM'>: L[d] = (L[d] + imm) | 0; H[d] = 0; break;
          case 0x0c satisfies Op<'ADD32_REG'>: L[d] = (L[d] + L[s]) | 0; H[d] = 0; break;
          case 0x14 satisfies Op<'SUB32_IMM'>: L[d] = (L[d] - imm) | 0; H[d] = 0; break;
          case 0x1c satisfies Op<'SUB32_REG'>: L[d] = (L[d] - L[s]) | 0; H[d] = 0; break;
          case 0x24 satisfies Op<'MUL32_IMM'>: L[d] = Math.imul(L[d], imm); H[d] = 0; break;
          case 0x2c satisfies Op<'MUL32_REG'>: L[d] = Math.imul(L[d], L[s]); H[d] = 0; break;
          case 0x34 satisfies Op<'DIV32_IMM'>: L[d] = off ? sdiv32(L[d], imm) : udiv32(L[d], imm); H[d] = 0; break;
          case 0x3c satisfies Op<'DIV32_REG'>: L[d] = off ? sdiv32(L[d], L[s]) : udiv32(L[d], L[s]); H[d] = 0; break;
          case 0x44 satisfies Op<'OR32_IMM'>: L[d] |= imm; H[d] = 0; break;
          case 0x4c satisfies Op<'OR32_REG'>: L[d] |= L[s]; H[d] = 0; break;
          case 0x54 satisfies Op<'AND32_IMM'>: L[d] &= imm; H[d] = 0; break;
          case 0x5c satisfies Op<'AND32_REG'>: L[d] &= L[s]; H[d] = 0; break;
          case 0x64 satisfies Op<'LSH32_IMM'>: L[d] <<= imm & 31; H[d] = 0; break;
          case 0x6c satisfies Op<'LSH32_REG'>: L[d] <<= L[s] & 31; H[d] = 0; break;
          case 0x74 satisfies Op<'RSH32_IMM'>: L[d] = L[d] >>> (imm & 31); H[d] = 0; break;
          case 0x7c satisfies Op<'RSH32_REG'>: L[d] = L[d] >>> (L[s] & 31); H[d] = 0; break;
          case 0x84 satisfies Op<'NEG32'>: L[d] = -L[d] | 0; H[d] = 0; break;
          case 0x94 satisfies Op<'MOD32_IMM'>: L[d] = off ? smod32(L[d], imm) : umod32(L[d], imm); H[d] = 0; break;
          case 0x9c satisfies Op<'MOD32_REG'>: L[d] = off ? smod32(L[d], L[s]) : umod32(L[d], L[s]); H[d] = 0; break;
          case 0xa4 satisfies Op<'XOR32_IMM'>: L[d] ^= imm; H[d] = 0; break;
          case 0xac satisfies Op<'XOR32_REG'>: L[d] ^= L[s]; H[d] = 0; break;
          case 0xb4 satisfies Op<'MOV32_IMM'>: L[d] = imm; H[d] = 0; break;
          case 0xbc satisfies Op<'MOV32_REG'>: L[d] = off === 8 ? (L[s] << 24) >> 24 : off === 16 ? (L[s] << 16) >> 16 : L[s]; H[d] = 0; break;
          case 0xc4 satisfies Op<'ARSH32_IMM'>: L[d] >>= imm & 31; H[d] = 0; break;
          case 0xcc satisfies Op<'ARSH32_REG'>: L[d] >>= L[s] & 31; H[d] = 0; break;
          // ---- byte order ----
          case 0xd4 satisfies Op<'LE'>: // to little-endian: truncate
            if (imm === 16) { L[d] &= 0xffff; H[d] = 0; } else if (imm === 32) H[d] = 0;
            break;
          case 0xdc satisfies Op<'BE'>: // to big-endian: swap
          case 0xd7 satisfies Op<'BSWAP'>: // bswap
            if (imm === 16) { L[d] = bswap16(L[d]); H[d] = 0; } else if (imm === 32) { L[d] = bswap32(L[d]); H[d] = 0; } else { const t = L[d]; L[d] = bswap32(H[d]); H[d] = bswap32(t); }
            break;
          // ---- lddw ----
          case 0x18 satisfies Op<'LDDW'>: L[d] = imm; H[d] = IMM[pc]; pc++; break;
          // ---- loads ----
          // Doublewords at r10 + off (spills and locals) take a fast path: r10's
          // low word is an offset in the stack region, checked here as the JIT does.
          case 0x79 satisfies Op<'LDXDW'>:
            if (s === 10) {
              const at = L[10] + off;
              if (at < 0 || at + 8 > STACK_BYTES) throw new VmFault(pc - 1, 'stack access out of bounds');
              L[d] = STK.getInt32(at, true);
              H[d] = STK.getInt32(at + 4, true);
            } else this.load(op, d, s, off, pc - 1);
            break;
          case 0x61 satisfies Op<'LDXW'>: case 0x69 satisfies Op<'LDXH'>: case 0x71 satisfies Op<'LDXB'>: case 0x81 satisfies Op<'LDXSW'>: case 0x89 satisfies Op<'LDXSH'>: case 0x91 satisfies Op<'LDXSB'>: this.load(op, d, s, off, pc - 1); break;
          // ---- stores ----
          case 0x7b satisfies Op<'STXDW'>:
            if (d === 10) {
              const at = L[10] + off;
              if (at < 0 || at + 8 > STACK_BYTES) throw new VmFault(pc - 1, 'stack access out of bounds');
              STK.setInt32(at, L[s], true);
              STK.setInt32(at + 4, H[s], true);
            } else this.store(op, d, off, L[s], H[s], pc - 1);
            break;
          case 0x62 satisfies Op<'STW'>: case 0x6a satisfies Op<'STH'>: case 0x72 satisfies Op<'STB'>: case 0x7a satisfies Op<'STDW'>: this.store(op, d, off, imm, imm >> 31, pc - 1); break;
          case 0x63 satisfies Op<'STXW'>: case 0x6b satisfies Op<'STXH'>: case 0x73 satisfies Op<'STXB'>: this.store(op, d, off, L[s], H[s], pc - 1); break;
          // ---- atomics ----
          case 0xc3 satisfies Op<'ATOMIC32'>: case 0xdb satisfies Op<'ATOMIC64'>: this.atomic(op, d, s, off, imm, pc - 1); break;
          // ---- jumps ----
          case 0x05 satisfies Op<'JA'>: pc += off; break;
          case 0x06 satisfies Op<'JA32'>: pc += imm; break;
          case 0x85 satisfies Op<'CALL'>:
            if (s === 1) {
              if (this.frames.length >= MAX_CALL_DEPTH - 1) throw new VmFault(pc - 1, `call depth exceeds ${MAX_CALL_DEPTH}`);
              const saved = new Int32Array(10);
              for (let r = 6; r <= 10; r++) { saved[2 * (r - 6)] = L[r]; saved[2 * (r - 6) + 1] = H[r]; }
              this.frames.push({ ret: pc, saved });
              L[10] = (L[10] - STACK_FRAME) | 0;
              pc += imm;
            } else if (this.callHelper(imm, pc - 1)) { this.pc = pc; this.insns += n; return this.finish({ kind: 'exit', r0: 0n }); }
            break;
          case 0x8d satisfies Op<'CALLX'>:
            if (this.callHelper(L[d], pc - 1)) { this.pc = pc; this.insns += n; return this.finish({ kind: 'exit', r0: 0n }); }
            break;
          case 0x95 satisfies Op<'EXIT'>: {
            const f = this.frames.pop();
            if (f === undefined) {
              this.pc = pc - 1;
              this.insns += n;
              return this.finish({ kind: 'exit', r0: this.get(0) });
            }
            for (let r = 6; r <= 10; r++) { L[r] = f.saved[2 * (r - 6)]; H[r] = f.saved[2 * (r - 6) + 1]; }
            pc = f.ret;
            break;
          }
          default:
            if (!isConditionalJump(op)) throw new VmFault(pc - 1, `unknown opcode 0x${op.toString(16)}`);
            if (op & BPF_X ? conditionHolds(op, L[d], H[d], L[s], H[s]) : conditionHolds(op, L[d], H[d], imm, imm >> 31)) pc += off;
        }
      }
    } catch (e) {
      if (e instanceof VmFault) {
        this.insns += n;
        this.pc = pc;
        return this.finish({ kind: 'fault', pc: e.pc, message: e.message });
      }
      throw e;
    }
    this.pc = pc;
    this.insns += n;
    return { kind: 'limit' };
  }

  private finish(s: VmStatus): VmStatus {
    this.finished = s;
    return s;
  }

  private lsh(d: number, n: number): void {
    const L = this.lo;
    const H = this.hi;
    if (n === 0) return;
    if (n < 32) { H[d] = (H[d] << n) | (L[d] >>> (32 - n)); L[d] <<= n; } else { H[d] = L[d] << (n - 32); L[d] = 0; }
  }

  private rsh(d: number, n: number): void {
    const L = this.lo;
    const H = this.hi;
    if (n === 0) return;
    if (n < 32) { L[d] = (L[d] >>> n) | (H[d] << (32 - n)); H[d] = H[d] >>> n; } else { L[d] = H[d] >>> (n - 32); H[d] = 0; }
  }

  private arsh(d: number, n: number): void {
    const L = this.lo;
    const H = this.hi;
    if (n === 0) return;
    if (n < 32) { L[d] = (L[d] >>> n) | (H[d] << (32 - n)); H[d] >>= n; } else { L[d] = H[d] >> (n - 32); H[d] >>= 31; }
  }

  private load(op: number, d: number, s: number, off: number, pc: number): void {
    const size = SIZE_BYTES[op & SIZE_MASK];
    const lo = (this.lo[s] + off) | 0;
    const hi = this.hi[s] + ((this.lo[s] >>> 0) + off > 0xffffffff ? 1 : (this.lo[s] >>> 0) + off < 0 ? -1 : 0);
    const r = this.mem.region(hi, lo, size, false, pc);
    const at = lo >>> 0;
    const L = this.lo;
    const H = this.hi;
    switch (op) {
      case 0x79 satisfies Op<'LDXDW'>: L[d] = r.dv.getInt32(at, true); H[d] = r.dv.getInt32(at + 4, true); break;
      case 0x61 satisfies Op<'LDXW'>: L[d] = r.dv.getInt32(at, true); H[d] = 0; break;
      case 0x69 satisfies Op<'LDXH'>: L[d] = r.dv.getUint16(at, true); H[d] = 0; break;
      case 0x71 satisfies Op<'LDXB'>: L[d] = r.bytes[at]; H[d] = 0; break;
      case 0x81 satisfies Op<'LDXSW'>: L[d] = r.dv.getInt32(at, true); H[d] = L[d] >> 31; break;
      case 0x89 satisfies Op<'LDXSH'>: L[d] = r.dv.getInt16(at, true); H[d] = L[d] >> 31; break;
      case 0x91 satisfies Op<'LDXSB'>: L[d] = r.dv.getInt8(at); H[d] = L[d] >> 31; break;
    }
  }

  private store(op: number, d: number, off: number, vl: number, vh: number, pc: number): void {
    const size = SIZE_BYTES[op & SIZE_MASK];
    const lo = (this.lo[d] + off) | 0;
    const hi = this.hi[d] + ((this.lo[d] >>> 0) + off > 0xffffffff ? 1 : (this.lo[d] >>> 0) + off < 0 ? -1 : 0);
    const r = this.mem.region(hi, lo, size, true, pc);
    const at = lo >>> 0;
    if (size === 8) { r.dv.setInt32(at, vl, true); r.dv.setInt32(at + 4, vh, true); } else if (size === 4) r.dv.setInt32(at, vl, true); else if (size === 2) r.dv.setInt16(at, vl, true); else r.bytes[at] = vl;
  }

  private atomic(op: number, d: number, s: number, off: number, imm: number, pc: number): void {
    const lo = (this.lo[d] + off) | 0;
    const hi = this.hi[d] + ((this.lo[d] >>> 0) + off > 0xffffffff ? 1 : (this.lo[d] >>> 0) + off < 0 ? -1 : 0);
    atomicOp(this.mem, this.lo, this.hi, op, hi, lo, s, imm, pc);
  }

  private callHelper(id: number, pc: number): boolean {
    return callHelper(this.helpers, this.mem, this.lo, this.hi, id, pc);
  }
}
