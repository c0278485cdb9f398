// The disassembler: bytecode back to the assembler's syntax (the monitor
// shows handlers this way).

import { ALU_OPS, ATOMIC, BPF_ALU, BPF_ALU64, BPF_JMP, BPF_JMP32, BPF_LDX, BPF_ST, BPF_STX, BPF_X, CALLX, CODE_MASK, JMP_OPS, LDDW, MODE_ATOMIC, MODE_MASK, MODE_MEMSX, type Program, SIZE, SIZE_MASK, cls } from './isa.ts';

const SIZE_NAME: Record<number, string> = { [SIZE.b]: 'b', [SIZE.h]: 'h', [SIZE.w]: 'w', [SIZE.dw]: 'dw' };
const ALU_NAME = Object.fromEntries(Object.entries(ALU_OPS).map(([k, v]) => [v, k]));
const JMP_NAME = Object.fromEntries(Object.entries(JMP_OPS).map(([k, v]) => [v, k]));
const ATOMIC_NAME: Record<number, string> = { [ATOMIC.add]: 'add', [ATOMIC.or]: 'or', [ATOMIC.and]: 'and', [ATOMIC.xor]: 'xor' };

function memOp(base: number, off: number): string {
  return off === 0 ? `[%r${base}]` : `[%r${base}${off < 0 ? '-' : '+'}${Math.abs(off)}]`;
}

function rel(off: number): string {
  return off < 0 ? `${off}` : `+${off}`;
}

/** One instruction as text (pc is needed for the second half of lddw). */
export function disassembleOne(p: Program, pc: number): string {
  const op = p.op[pc];
  const dst = p.dst[pc];
  const src = p.src[pc];
  const off = p.off[pc];
  const imm = p.imm[pc];
  const c = cls(op);
  if (op === LDDW) {
    const hi = pc + 1 < p.length ? p.imm[pc + 1] : 0;
    const v = (BigInt.asUintN(32, BigInt(hi)) << 32n) | BigInt.asUintN(32, BigInt(imm));
    return `lddw %r${dst}, 0x${v.toString(16)}`;
  }
  if (c === BPF_ALU || c === BPF_ALU64) {
    const code = op & CODE_MASK;
    const w = c === BPF_ALU ? '32' : '';
    if (code === ALU_OPS.end) {
      if (c === BPF_ALU64) return `bswap${imm} %r${dst}`;
      return `${op & BPF_X ? 'be' : 'le'}${imm} %r${dst}`;
    }
    if (code === ALU_OPS.neg) return `neg${w} %r${dst}`;
    if (code === ALU_OPS.mov && (op & BPF_X) && off !== 0) return `movsx${off}${c === BPF_ALU ? '32' : '64'} %r${dst}, %r${src}`;
    const name = `${(code === ALU_OPS.div || code === ALU_OPS.mod) && off === 1 ? 's' : ''}${ALU_NAME[code]}${w}`;
    return op & BPF_X ? `${name} %r${dst}, %r${src}` : `${name} %r${dst}, ${imm}`;
  }
  if (c === BPF_JMP || c === BPF_JMP32) {
    const code = op & CODE_MASK;
    if (op === CALLX) return `call %r${dst}`;
    if (code === JMP_OPS.call) return src === 1 ? `call local ${rel(imm)}` : `call ${imm}`;
    if (code === JMP_OPS.exit) return 'exit';
    const w = c === BPF_JMP32 ? '32' : '';
    if (code === JMP_OPS.ja) return `ja${w} ${rel(c === BPF_JMP32 ? imm : off)}`;
    const rhs = op & BPF_X ? `%r${src}` : `${imm}`;
    return `${JMP_NAME[code]}${w} %r${dst}, ${rhs}, ${rel(off)}`;
  }
  const size = SIZE_NAME[op & SIZE_MASK];
  if (c === BPF_LDX) return `ldx${(op & MODE_MASK) === MODE_MEMSX ? 's' : ''}${size} %r${dst}, ${memOp(src, off)}`;
  if (c === BPF_ST) return `st${size} ${memOp(dst, off)}, ${imm}`;
  if (c === BPF_STX) {
    if ((op & MODE_MASK) === MODE_ATOMIC) {
      const w = (op & SIZE_MASK) === SIZE.w ? '32' : '';
      if (imm === ATOMIC.xchg) return `lock xchg${w} ${memOp(dst, off)}, %r${src}`;
      if (imm === ATOMIC.cmpxchg) return `lock cmpxchg${w} ${memOp(dst, off)}, %r${src}`;
      const name = ATOMIC_NAME[imm & CODE_MASK] ?? `op${imm}`;
      return `lock ${imm & ATOMIC.fetch ? 'fetch ' : ''}${name}${w} ${memOp(dst, off)}, %r${src}`;
    }
    return `stx${size} ${memOp(dst, off)}, %r${src}`;
  }
  if (op === 0 && pc > 0 && p.op[pc - 1] === LDDW) return '(lddw high half)';
  return `.word 0x${op.toString(16)}`;
}

export function disassemble(p: Program): string[] {
  const out: string[] = [];
  for (let pc = 0; pc < p.length; pc++) {
    out.push(disassembleOne(p, pc));
    if (p.op[pc] === LDDW) pc++;
  }
  return out;
}
