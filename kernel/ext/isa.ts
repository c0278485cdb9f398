// The eBPF instruction set (RFC 9669): encoding, the opcode table, and
// decoding a program into typed arrays. One table of every opcode Margay
// accepts is the source for the assembler, disassembler, verifier and both
// engines.

export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

export const BPF_K = 0x00;
export const BPF_X = 0x08;

export const SIZE = { w: 0x00, h: 0x08, b: 0x10, dw: 0x18 } as const;
export const SIZE_BYTES: Readonly<Record<number, number>> = { 0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8 };
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

export const LDDW = BPF_LD | SIZE.dw | MODE_IMM; // 0x18
export const CALL = BPF_JMP | JMP_OPS.call; // 0x85
export const CALLX = BPF_JMP | JMP_OPS.call | BPF_X; // 0x8d
export const EXIT = BPF_JMP | JMP_OPS.exit; // 0x95

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
  return op & 0x07;
}

/** True for the opcodes Margay implements (RFC 9669 base, atomics, divmul, local calls, callx). */
export function knownOpcode(op: number, src: number, off: number, imm: number): string | null {
  const c = cls(op);
  if (c === BPF_ALU || c === BPF_ALU64) {
    const code = op & 0xf0;
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
    const code = op & 0xf0;
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
  if (c === 0x00) return `unknown load mode 0x${(op & 0xe0).toString(16)} (legacy packet loads are not supported)`;
  if (c === BPF_LDX) {
    const mode = op & 0xe0;
    if (mode === MODE_MEM) return null;
    if (mode === MODE_MEMSX) return (op & 0x18) === SIZE.dw ? 'sign-extending load of a double word' : null;
    return `unknown load mode 0x${mode.toString(16)} (legacy packet loads are not supported)`;
  }
  if (c === BPF_ST) return (op & 0xe0) === MODE_MEM ? null : `unknown store mode 0x${(op & 0xe0).toString(16)}`;
  if (c === BPF_STX) {
    const mode = op & 0xe0;
    if (mode === MODE_MEM) return null;
    if (mode === MODE_ATOMIC) {
      const size = op & 0x18;
      if (size !== SIZE.w && size !== SIZE.dw) return 'atomics are 32 or 64 bits';
      if (![0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1].includes(imm)) return `unknown atomic operation 0x${imm.toString(16)}`;
      return null;
    }
    return `unknown store mode 0x${mode.toString(16)}`;
  }
  return `unknown opcode 0x${op.toString(16)}`;
}
