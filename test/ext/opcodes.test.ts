import { describe, expect, it } from 'vitest';
import { ALU_OPS, ATOMIC, BPF_ALU, BPF_ALU64, BPF_JMP, BPF_JMP32, BPF_K, BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_X, CONDITIONS, JMP_OPS, MODE_ATOMIC, MODE_IMM, MODE_MEM, MODE_MEMSX, OP, OP_NAME, SIZE, decode, encode, knownOpcode, type Insn } from '../../kernel/ext/isa.ts';
import { Vm, type VmHelper } from '../../kernel/ext/interp.ts';
import { LoadedProgram } from '../../kernel/ext/loader.ts';
import type { HookSpec } from '../../kernel/ext/verifier.ts';
import { STACK_BYTES, STACK_REGION, VmMemory } from '../../kernel/ext/vmmem.ts';

/** The opcode table as RFC 9669 composes it from the fields (class | operation | source, class | mode | size). */
function composed(): Record<string, number> {
  const t: Record<string, number> = {};
  for (const [name, code] of Object.entries(ALU_OPS)) {
    const N = name.toUpperCase();
    if (name === 'end') continue;
    if (name === 'neg') {
      t.NEG64 = BPF_ALU64 | code;
      t.NEG32 = BPF_ALU | code;
      continue;
    }
    t[`${N}64_IMM`] = BPF_ALU64 | code | BPF_K;
    t[`${N}64_REG`] = BPF_ALU64 | code | BPF_X;
    t[`${N}32_IMM`] = BPF_ALU | code | BPF_K;
    t[`${N}32_REG`] = BPF_ALU | code | BPF_X;
  }
  t.BSWAP = BPF_ALU64 | ALU_OPS.end;
  t.LE = BPF_ALU | ALU_OPS.end | BPF_K;
  t.BE = BPF_ALU | ALU_OPS.end | BPF_X;
  t.LDDW = BPF_LD | MODE_IMM | SIZE.dw;
  for (const [s, size] of Object.entries(SIZE)) {
    const S = s.toUpperCase();
    t[`LDX${S}`] = BPF_LDX | MODE_MEM | size;
    if (size !== SIZE.dw) t[`LDXS${S}`] = BPF_LDX | MODE_MEMSX | size;
    t[`ST${S}`] = BPF_ST | MODE_MEM | size;
    t[`STX${S}`] = BPF_STX | MODE_MEM | size;
  }
  t.ATOMIC32 = BPF_STX | MODE_ATOMIC | SIZE.w;
  t.ATOMIC64 = BPF_STX | MODE_ATOMIC | SIZE.dw;
  t.JA = BPF_JMP | JMP_OPS.ja;
  t.JA32 = BPF_JMP32 | JMP_OPS.ja;
  t.CALL = BPF_JMP | JMP_OPS.call;
  t.CALLX = BPF_JMP | JMP_OPS.call | BPF_X;
  t.EXIT = BPF_JMP | JMP_OPS.exit;
  for (const c of CONDITIONS) {
    const C = c.toUpperCase();
    t[`${C}_IMM`] = BPF_JMP | JMP_OPS[c] | BPF_K;
    t[`${C}_REG`] = BPF_JMP | JMP_OPS[c] | BPF_X;
    t[`${C}32_IMM`] = BPF_JMP32 | JMP_OPS[c] | BPF_K;
    t[`${C}32_REG`] = BPF_JMP32 | JMP_OPS[c] | BPF_X;
  }
  return t;
}

const ALL_BYTES = Array.from({ length: 256 }, (_, op) => op);
const IN_TABLE = new Set<number>(Object.values(OP));

/** Fields that make `op` a valid instruction (those the verifier's structural check accepts), for running it alone. */
function fields(op: number): Insn {
  const isJump = op === OP.JA || (op & 0x07) === BPF_JMP32 || ((op & 0x07) === BPF_JMP && op !== OP.CALL && op !== OP.CALLX && op !== OP.EXIT);
  const imm = op === OP.ATOMIC32 || op === OP.ATOMIC64 ? ATOMIC.add | ATOMIC.fetch : op === OP.JA32 ? 1 : 16;
  return { op, dst: 1, src: op === OP.CALL || op === OP.LDDW ? 0 : 2, off: isJump && op !== OP.JA32 ? 1 : 0, imm };
}

/** `op` alone, then an instruction a jump may skip, then r0 = r1 ^ r2 + r3 and exit. */
function probe(op: number): Uint8Array {
  const f = fields(op);
  const insns: Insn[] = [f];
  if (op === OP.LDDW) insns.push({ op: 0, dst: 0, src: 0, off: 0, imm: -3 });
  const I = (o: number, dst: number, src: number, imm = 0): Insn => ({ op: o, dst, src, off: 0, imm });
  insns.push(I(OP.MOV64_IMM, 3, 0, 1000), I(OP.MOV64_REG, 0, 1), I(OP.XOR64_REG, 0, 2), I(OP.ADD64_REG, 0, 3), I(OP.EXIT, 0, 0));
  return encode(insns);
}

const HOOK: HookSpec = { name: 'probe', regions: [], args: [], helpers: [], maxInsns: 4096, pointerReturn: true };
const HELPERS = new Map<number, VmHelper>([[16, { id: 16, name: 'plus-one', call: (r) => r.get(1) + 1n }]]);
const ARGS = [Vm.pointer(STACK_REGION, STACK_BYTES - 16), 0x8000_0000_f00d_0007n, 5n];

describe('the eBPF opcode table (isa.ts OP)', () => {
  it('gives every opcode the value its fields compose', () => {
    expect(OP).toEqual(composed());
    expect(OP_NAME.size).toBe(Object.keys(OP).length);
  });

  it('holds exactly the opcodes the verifier accepts', () => {
    const accepted = ALL_BYTES.filter((op) => [0, 16, 32, 64, ATOMIC.add | ATOMIC.fetch].some((imm) => knownOpcode(op, 0, 0, imm) === null || knownOpcode(op, 2, 0, imm) === null));
    expect(accepted.map((op) => OP_NAME.get(op) ?? `0x${op.toString(16)}`)).toEqual([...IN_TABLE].sort((a, b) => a - b).map((op) => OP_NAME.get(op)));
    for (const op of IN_TABLE) expect(knownOpcode(op, fields(op).src, fields(op).off, fields(op).imm), OP_NAME.get(op)).toBeNull();
  });

  it('holds exactly the opcodes the interpreter runs (it refuses every other byte as unknown)', () => {
    const runs = ALL_BYTES.filter((op) => {
      const vm = new Vm(decode(probe(op)), new VmMemory(), HELPERS);
      ARGS.forEach((a, i) => vm.set(i + 1, a));
      const s = vm.run(1);
      return !(s.kind === 'fault' && s.message.includes('unknown opcode'));
    });
    expect(runs.map((op) => OP_NAME.get(op) ?? `0x${op.toString(16)}`).sort()).toEqual(Object.keys(OP).sort());
  });

  it('is compiled by the jit to code that computes what the interpreter computes, opcode by opcode', () => {
    for (const op of IN_TABLE) {
      const prog = new LoadedProgram(decode(probe(op)), HOOK, HELPERS, { steps: 0, reachable: 0 });
      const interp = prog.run('interp', new VmMemory(), ARGS, 100);
      const jit = prog.run('jit', new VmMemory(), ARGS, 100);
      expect(jit, OP_NAME.get(op)).toEqual(interp);
    }
  });
});
