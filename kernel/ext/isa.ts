// The eBPF instruction set (RFC 9669): the fields of an opcode, the table
// of every opcode Margay accepts (OP), encoding and decoding a program into
// typed arrays. The assembler, disassembler, verifier and both engines take
// their opcodes from here; test/ext/opcodes.test.ts checks that the
// verifier, the interpreter and the compiler accept exactly OP.

export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

/** The fields of an opcode byte: class (low 3 bits), source (bit 3: BPF_K or BPF_X), operation (high 4 bits); for loads and stores, size and mode. */
export const CLASS_MASK = 0x07;
export const CODE_MASK = 0xf0;
export const SIZE_MASK = 0x18;
export const MODE_MASK = 0xe0;

export const BPF_K = 0x00;
export const BPF_X = 0x08;

export const SIZE = { w: 0x00, h: 0x08, b: 0x10, dw: 0x18 } as const;
export const SIZE_BYTES: Readonly<Record<number, number>> = { [SIZE.w]: 4, [SIZE.h]: 2, [SIZE.b]: 1, [SIZE.dw]: 8 };
export const MODE_IMM = 0x00;
export const MODE_MEM = 0x60;
export const MODE_MEMSX = 0x80;
export const MODE_ATOMIC = 0xc0;

export const ALU_OPS = {
  add: 0x00,
  sub: 0x10,
  mul: 0x20,
  div: 0x30,
  or: 0x40,
  and: 0x50,
  lsh: 0x60,
  rsh: 0x70,
  neg: 0x80,
  mod: 0x90,
  xor: 0xa0,
  mov: 0xb0,
  arsh: 0xc0,
  end: 0xd0,
} as const;

export const JMP_OPS = {
  ja: 0x00,
  jeq: 0x10,
  jgt: 0x20,
  jge: 0x30,
  jset: 0x40,
  jne: 0x50,
  jsgt: 0x60,
  jsge: 0x70,
  call: 0x80,
  exit: 0x90,
  jlt: 0xa0,
  jle: 0xb0,
  jslt: 0xc0,
  jsle: 0xd0,
} as const;

export const ATOMIC = { add: 0x00, or: 0x40, and: 0x50, xor: 0xa0, fetch: 0x01, xchg: 0xe1, cmpxchg: 0xf1 } as const;
/** The atomic operations' immediates: add, or, and, xor with or without fetch; xchg and cmpxchg (which always fetch). */
const ATOMIC_IMMS = new Set<number>([ATOMIC.add, ATOMIC.or, ATOMIC.and, ATOMIC.xor].flatMap((o) => [o, o | ATOMIC.fetch]).concat(ATOMIC.xchg, ATOMIC.cmpxchg));

/**
 * Every opcode byte Margay executes, by name (ubpf's names): the 120 the
 * verifier accepts, the interpreter runs and the compiler translates.
 * Written as literals so that the interpreter's `case 0x07 satisfies
 * Op<'ADD64_IMM'>` labels stay literals (V8 turns a switch into a jump table
 * only when every label is a number literal; a named constant there costs a
 * compare per case) while tsc checks each against this table; a test checks
 * the table against the fields above (class | operation | source).
 */
export const OP = {
  ADD64_IMM: 0x07, ADD64_REG: 0x0f, SUB64_IMM: 0x17, SUB64_REG: 0x1f, MUL64_IMM: 0x27, MUL64_REG: 0x2f,
  DIV64_IMM: 0x37, DIV64_REG: 0x3f, OR64_IMM: 0x47, OR64_REG: 0x4f, AND64_IMM: 0x57, AND64_REG: 0x5f,
  LSH64_IMM: 0x67, LSH64_REG: 0x6f, RSH64_IMM: 0x77, RSH64_REG: 0x7f, NEG64: 0x87, MOD64_IMM: 0x97, MOD64_REG: 0x9f,
  XOR64_IMM: 0xa7, XOR64_REG: 0xaf, MOV64_IMM: 0xb7, MOV64_REG: 0xbf, ARSH64_IMM: 0xc7, ARSH64_REG: 0xcf, BSWAP: 0xd7,

  ADD32_IMM: 0x04, ADD32_REG: 0x0c, SUB32_IMM: 0x14, SUB32_REG: 0x1c, MUL32_IMM: 0x24, MUL32_REG: 0x2c,
  DIV32_IMM: 0x34, DIV32_REG: 0x3c, OR32_IMM: 0x44, OR32_REG: 0x4c, AND32_IMM: 0x54, AND32_REG: 0x5c,
  LSH32_IMM: 0x64, LSH32_REG: 0x6c, RSH32_IMM: 0x74, RSH32_REG: 0x7c, NEG32: 0x84, MOD32_IMM: 0x94, MOD32_REG: 0x9c,
  XOR32_IMM: 0xa4, XOR32_REG: 0xac, MOV32_IMM: 0xb4, MOV32_REG: 0xbc, ARSH32_IMM: 0xc4, ARSH32_REG: 0xcc, LE: 0xd4, BE: 0xdc,

  LDDW: 0x18,
  LDXW: 0x61, LDXH: 0x69, LDXB: 0x71, LDXDW: 0x79, LDXSW: 0x81, LDXSH: 0x89, LDXSB: 0x91,
  STW: 0x62, STH: 0x6a, STB: 0x72, STDW: 0x7a, STXW: 0x63, STXH: 0x6b, STXB: 0x73, STXDW: 0x7b,
  ATOMIC32: 0xc3, ATOMIC64: 0xdb,

  JA: 0x05, JA32: 0x06, CALL: 0x85, CALLX: 0x8d, EXIT: 0x95,
  JEQ_IMM: 0x15, JEQ_REG: 0x1d, JEQ32_IMM: 0x16, JEQ32_REG: 0x1e,
  JGT_IMM: 0x25, JGT_REG: 0x2d, JGT32_IMM: 0x26, JGT32_REG: 0x2e,
  JGE_IMM: 0x35, JGE_REG: 0x3d, JGE32_IMM: 0x36, JGE32_REG: 0x3e,
  JSET_IMM: 0x45, JSET_REG: 0x4d, JSET32_IMM: 0x46, JSET32_REG: 0x4e,
  JNE_IMM: 0x55, JNE_REG: 0x5d, JNE32_IMM: 0x56, JNE32_REG: 0x5e,
  JSGT_IMM: 0x65, JSGT_REG: 0x6d, JSGT32_IMM: 0x66, JSGT32_REG: 0x6e,
  JSGE_IMM: 0x75, JSGE_REG: 0x7d, JSGE32_IMM: 0x76, JSGE32_REG: 0x7e,
  JLT_IMM: 0xa5, JLT_REG: 0xad, JLT32_IMM: 0xa6, JLT32_REG: 0xae,
  JLE_IMM: 0xb5, JLE_REG: 0xbd, JLE32_IMM: 0xb6, JLE32_REG: 0xbe,
  JSLT_IMM: 0xc5, JSLT_REG: 0xcd, JSLT32_IMM: 0xc6, JSLT32_REG: 0xce,
  JSLE_IMM: 0xd5, JSLE_REG: 0xdd, JSLE32_IMM: 0xd6, JSLE32_REG: 0xde,
} as const;

export type OpName = keyof typeof OP;
/** The literal type of one opcode: `case 0x07 satisfies Op<'ADD64_IMM'>:` names a label at no cost. */
export type Op<N extends OpName> = (typeof OP)[N];

/** Opcode byte -> name, for the opcodes in OP. */
export const OP_NAME: ReadonlyMap<number, OpName> = new Map(Object.entries(OP).map(([k, v]) => [v, k as OpName]));

export const LDDW = OP.LDDW;
export const CALL = OP.CALL;
export const CALLX = OP.CALLX;
export const EXIT = OP.EXIT;

/** The jump operations that test a condition (all but ja, call and exit). */
export const CONDITIONS = ['jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'jlt', 'jle', 'jslt', 'jsle'] as const;
export type Condition = (typeof CONDITIONS)[number];
const CONDITION_CODES = new Set<number>(CONDITIONS.map((c) => JMP_OPS[c]));

/** True for a conditional jump of either width, in either source form. */
export function isConditionalJump(op: number): boolean {
  const c = op & CLASS_MASK;
  return (c === BPF_JMP || c === BPF_JMP32) && CONDITION_CODES.has(op & CODE_MASK);
}

/** A decoded program: one entry per 64-bit slot (lddw takes two; the second has opcode 0). */
export interface Program {
  readonly length: number;
  readonly op: Uint8Array;
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly off: Int16Array;
  readonly imm: Int32Array;
}

export class DecodeError extends Error {
  constructor(
    readonly pc: number,
    message: string,
  ) {
    super(`instruction ${pc}: ${message}`);
    this.name = 'DecodeError';
  }
}

/** Decodes little-endian 8-byte instructions. */
export function decode(bytes: Uint8Array): Program {
  if (bytes.length % 8 !== 0) throw new DecodeError(Math.floor(bytes.length / 8), `program length ${bytes.length} is not a multiple of 8 bytes`);
  const n = bytes.length / 8;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const p = { length: n, op: new Uint8Array(n), dst: new Uint8Array(n), src: new Uint8Array(n), off: new Int16Array(n), imm: new Int32Array(n) };
  for (let i = 0; i < n; i++) {
    p.op[i] = dv.getUint8(8 * i);
    const regs = dv.getUint8(8 * i + 1);
    p.dst[i] = regs & 0x0f;
    p.src[i] = regs >> 4;
    p.off[i] = dv.getInt16(8 * i + 2, true);
    p.imm[i] = dv.getInt32(8 * i + 4, true);
  }
  return p;
}

export interface Insn {
  op: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export function encode(insns: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(8 * insns.length);
  const dv = new DataView(out.buffer);
  insns.forEach((x, i) => {
    dv.setUint8(8 * i, x.op);
    dv.setUint8(8 * i + 1, (x.dst & 0xf) | ((x.src & 0xf) << 4));
    dv.setInt16(8 * i + 2, x.off, true);
    dv.setInt32(8 * i + 4, x.imm | 0, true);
  });
  return out;
}

export function cls(op: number): number {
  return op & CLASS_MASK;
}

/** True for the opcodes Margay implements (RFC 9669 base, atomics, divmul, local calls, callx). */
export function knownOpcode(op: number, src: number, off: number, imm: number): string | null {
  const c = cls(op);
  if (c === BPF_ALU || c === BPF_ALU64) {
    const code = op & CODE_MASK;
    const name = Object.entries(ALU_OPS).find(([, v]) => v === code)?.[0];
    if (name === undefined) return `unknown ALU operation 0x${code.toString(16)}`;
    if (code === ALU_OPS.end) {
      if (c === BPF_ALU64 && (op & BPF_X)) return 'bswap must use the K form';
      if (![16, 32, 64].includes(imm)) return `byte swap width ${imm} is not 16, 32 or 64`;
      return null;
    }
    if (code === ALU_OPS.neg && (op & BPF_X)) return 'neg has no register form';
    if (code === ALU_OPS.div || code === ALU_OPS.mod) {
      if (off !== 0 && off !== 1) return `${name} offset must be 0 (unsigned) or 1 (signed)`;
    } else if (code === ALU_OPS.mov) {
      if (off !== 0 && !((op & BPF_X) && (off === 8 || off === 16 || (off === 32 && c === BPF_ALU64)))) return `mov offset ${off} is not a sign extension width`;
    } else if (off !== 0) return `${name} has a non-zero offset`;
    return null;
  }
  if (c === BPF_JMP || c === BPF_JMP32) {
    const code = op & CODE_MASK;
    const name = Object.entries(JMP_OPS).find(([, v]) => v === code)?.[0];
    if (name === undefined) return `unknown jump operation 0x${code.toString(16)}`;
    if (code === JMP_OPS.call) {
      if (c !== BPF_JMP) return 'call is a JMP-class instruction';
      if (op & BPF_X) return null;
      if (src !== 0 && src !== 1) return `call with src ${src} (only helpers by id and local calls)`;
      return null;
    }
    if (code === JMP_OPS.exit) return c === BPF_JMP && !(op & BPF_X) ? null : 'exit must be 0x95';
    if (code === JMP_OPS.ja) return op & BPF_X ? 'ja has no register form' : null;
    return null;
  }
  if (op === LDDW) return src === 0 ? null : `lddw with src ${src} (maps are not supported)`;
  if (c === BPF_LD) return `unknown load mode 0x${(op & MODE_MASK).toString(16)} (legacy packet loads are not supported)`;
  if (c === BPF_LDX) {
    const mode = op & MODE_MASK;
    if (mode === MODE_MEM) return null;
    if (mode === MODE_MEMSX) return (op & SIZE_MASK) === SIZE.dw ? 'sign-extending load of a double word' : null;
    return `unknown load mode 0x${mode.toString(16)} (legacy packet loads are not supported)`;
  }
  if (c === BPF_ST) return (op & MODE_MASK) === MODE_MEM ? null : `unknown store mode 0x${(op & MODE_MASK).toString(16)}`;
  if (c === BPF_STX) {
    const mode = op & MODE_MASK;
    if (mode === MODE_MEM) return null;
    if (mode === MODE_ATOMIC) {
      const size = op & SIZE_MASK;
      if (size !== SIZE.w && size !== SIZE.dw) return 'atomics are 32 or 64 bits';
      if (!ATOMIC_IMMS.has(imm)) return `unknown atomic operation 0x${imm.toString(16)}`;
      return null;
    }
    return `unknown store mode 0x${mode.toString(16)}`;
  }
  return `unknown opcode 0x${op.toString(16)}`;
}
