import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALU_OPS, BPF_ALU, BPF_ALU64, BPF_X, OP, OP_NAME, decode, encode, type Insn } from '../../kernel/ext/isa.ts';
import { Vm } from '../../kernel/ext/interp.ts';
import { verify } from '../../kernel/ext/verifier.ts';
import { VmMemory } from '../../kernel/ext/vmmem.ts';
import { noMem } from './verify-helpers.ts';

// The verifier folds ALU operations on constants with its own (BigInt)
// arithmetic; the engines compute on word pairs. This pins that both agree:
// the program below is accepted only if the verifier's constant for r1 is the
// interpreter's, since otherwise it must assume the jeq can fall through to a
// read of r7, which is never initialised.

const ALU_OPCODES = [...OP_NAME.keys()].filter((op) => (op & 0x07) === BPF_ALU || (op & 0x07) === BPF_ALU64);

/** Valid off / imm for an ALU opcode (signedness of div/mod, sign-extension width of movsx, byte-swap width). */
function shape(op: number, pick: number, imm: number): { off: number; imm: number } {
  const code = op & 0xf0;
  const wide = (op & 0x07) === BPF_ALU64;
  if (code === ALU_OPS.end) return { off: 0, imm: [16, 32, 64][pick % 3] };
  if (code === ALU_OPS.div || code === ALU_OPS.mod) return { off: pick % 2, imm };
  if (code === ALU_OPS.mov && op & BPF_X) return { off: (wide ? [0, 8, 16, 32] : [0, 8, 16])[pick % (wide ? 4 : 3)], imm: 0 };
  return { off: 0, imm };
}

const lddw = (dst: number, v: bigint): Insn[] => {
  const u = BigInt.asUintN(64, v);
  return [
    { op: OP.LDDW, dst, src: 0, off: 0, imm: Number(BigInt.asIntN(32, u)) },
    { op: 0, dst: 0, src: 0, off: 0, imm: Number(BigInt.asIntN(32, u >> 32n)) },
  ];
};

const I = (op: number, dst: number, src: number, off = 0, imm = 0): Insn => ({ op, dst, src, off, imm });

describe('the verifier\'s constant folding', () => {
  it('computes every ALU operation on constants exactly as the interpreter does', () => {
    const word = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constantFrom(0n, 1n, -1n, 2n ** 31n, -(2n ** 31n), 2n ** 63n - 1n, -(2n ** 63n), 63n, 64n, 32n));
    fc.assert(
      fc.property(fc.constantFrom(...ALU_OPCODES), word, word, fc.nat(11), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (op, a, b, pick, imm) => {
        const f = shape(op, pick, imm);
        const prefix = [...lddw(1, a), ...lddw(3, b), I(op, 1, 3, f.off, f.imm)];
        const vm = new Vm(decode(encode([...prefix, I(OP.MOV64_REG, 0, 1), I(OP.EXIT, 0, 0)])), new VmMemory(), new Map());
        const s = vm.run(100);
        expect(s.kind).toBe('exit');
        const r1 = s.kind === 'exit' ? s.r0 : 0n;
        const checked = [...prefix, ...lddw(2, r1), I(OP.JEQ_REG, 1, 2, 1), I(OP.MOV64_REG, 0, 7), I(OP.MOV64_IMM, 0, 0, 0, 0), I(OP.EXIT, 0, 0)];
        expect(() => verify(decode(encode(checked)), noMem), `${OP_NAME.get(op)} off ${f.off} imm ${f.imm}: ${a} op ${b} = ${r1}`).not.toThrow();
      }),
      { numRuns: 1500, seed: 12 },
    );
  });
});
