import { describe, expect, it } from 'vitest';
import { assemble } from '../../kernel/ext/asm.ts';
import { decode, encode } from '../../kernel/ext/isa.ts';
import { verify } from '../../kernel/ext/verifier.ts';
import { hook, noMem, rejects } from './verify-helpers.ts';

const raw = (...words: [number, number, number, number, number][]) => decode(encode(words.map(([op, dst, src, off, imm]) => ({ op, dst, src, off, imm }))));

describe('the verifier rejects, naming the instruction,', () => {
  it('unknown opcodes', () => {
    expect(() => verify(raw([0xff, 0, 0, 0, 0], [0x95, 0, 0, 0, 0]), hook)).toThrow(/instruction 0: unknown ALU operation 0xf0/);
    expect(() => verify(raw([0xb7, 0, 0, 0, 0], [0xe5, 0, 0, 0, 0], [0x95, 0, 0, 0, 0]), hook)).toThrow(/instruction 1: unknown jump operation 0xe0/);
    expect(() => verify(raw([0x20, 0, 0, 0, 0], [0x95, 0, 0, 0, 0]), hook)).toThrow(/instruction 0: unknown load mode .*legacy packet/);
  });

  it('bad registers', () => {
    expect(() => verify(raw([0xb7, 11, 0, 0, 1], [0x95, 0, 0, 0, 0]), hook)).toThrow(/instruction 0: bad destination register r11/);
    expect(() => verify(raw([0xbf, 0, 12, 0, 0], [0x95, 0, 0, 0, 0]), hook)).toThrow(/bad source register r12/);
  });

  it('writes to r10', () => {
    expect(rejects('mov %r10, 1\nexit')).toEqual({ pc: 0, reason: 'writes r10, the read-only frame pointer' });
  });

  it('jumps out of range or into the middle of lddw', () => {
    expect(rejects('ja +5\nexit').reason).toMatch(/jump to 6, outside the program/);
    expect(rejects('ja +1\nlddw %r0, 1\nexit').reason).toMatch(/jump into the middle of the lddw at 1/);
  });

  it('an incomplete lddw', () => {
    expect(() => verify(raw([0xb7, 0, 0, 0, 0], [0x18, 0, 0, 0, 1]), hook)).toThrow(/instruction 1: incomplete lddw/);
  });

  it('falling off the end', () => {
    expect(rejects('mov %r0, 1')).toMatchObject({ reason: 'execution falls off the end of the program' });
  });

  it('reads of uninitialised registers and stack', () => {
    expect(rejects('mov %r0, %r3\nexit')).toEqual({ pc: 0, reason: 'reads r3, which is not initialised' });
    expect(rejects('exit')).toEqual({ pc: 0, reason: 'reads r0, which is not initialised' });
    expect(rejects('ldxdw %r0, [%r10-8]\nexit')).toMatchObject({ pc: 0, reason: expect.stringMatching(/stack byte -8 .* never written/) });
    expect(rejects('stw [%r10-8], 1\nldxdw %r0, [%r10-8]\nexit')).toMatchObject({ pc: 1, reason: expect.stringMatching(/stack byte -4/) });
  });

  it('memory accesses it cannot prove inside their region', () => {
    expect(rejects('ldxdw %r0, [%r1+12]\nexit').reason).toMatch(/8-byte read at mem\+12 is outside mem \(0\.\.16\)/);
    expect(rejects('stxb [%r10+0], %r2\nmov %r0, 0\nexit').reason).toMatch(/1-byte write at stack\+4096 is outside stack/);
    expect(rejects('mov %r0, 0\nldxb %r3, [%r1]\nadd %r1, %r3\nldxb %r0, [%r1]\nexit').reason).toMatch(/1-byte read at mem\+\[0, 255\] is outside mem/);
    expect(rejects('ldxb %r0, [%r2]\nexit').reason).toMatch(/through a scalar/);
  });

  it('accepts an access a bounds check makes safe', () => {
    expect(() => verify(decode(assemble('mov %r0, 0\nldxb %r3, [%r1]\njgt %r3, 15, out\nadd %r1, %r3\nldxb %r0, [%r1]\nout:\nexit')), hook)).not.toThrow();
  });

  it('pointer arithmetic other than adding a number', () => {
    expect(rejects('mul %r1, 2\nmov %r0, 0\nexit').reason).toMatch(/multiplication on a pointer/);
    expect(rejects('add32 %r1, 2\nmov %r0, 0\nexit').reason).toMatch(/32-bit arithmetic on a pointer/);
  });

  it('storing a pointer anywhere but whole on the stack', () => {
    expect(rejects('stxdw [%r1], %r1\nmov %r0, 0\nexit').reason).toMatch(/would leak it/);
    expect(rejects('stxw [%r10-8], %r1\nmov %r0, 0\nexit').reason).toMatch(/spilled whole/);
  });

  it('helpers the hook does not allow, or with the wrong argument types', () => {
    expect(rejects('mov %r1, 1\ncall 7\nexit').reason).toMatch(/helper 7 is not allowed for the conformance hook/);
    expect(rejects('call 5\nexit', { ...noMem, args: [] }).reason).toMatch(/reads r1/);
    expect(rejects('mov %r2, %r1\ncall %r2\nexit').reason).toMatch(/not a known helper id/);
  });

  it('too many instructions', () => {
    const big = Array.from({ length: 70_000 }, () => 'mov %r0, 0').join('\n') + '\nexit';
    expect(rejects(big).reason).toMatch(/more than the conformance hook allows \(65536\)/);
  });

  it('clobbered argument registers after a call', () => {
    expect(rejects('mov %r1, 1\ncall 5\nmov %r0, %r1\nexit').reason).toBe('reads r1, which is not initialised');
  });

  it('a pointer returned to a hook that forbids it', () => {
    expect(rejects('mov %r0, %r10\nexit', { ...hook, pointerReturn: false }).reason).toMatch(/returns a pointer/);
  });
});

describe('the verifier accepts', () => {
  it('loops with a way out, leaving termination to the instruction budget', () => {
    expect(() => verify(decode(assemble('mov %r0, 0\nloop:\nadd %r0, 1\njne %r0, 0, loop\nexit')), noMem)).not.toThrow();
    expect(verify(decode(assemble('mov %r0, 0\nmov %r1, 10\nloop:\nadd %r0, 1\nsub %r1, 1\njne %r1, 0, loop\nexit')), noMem).reachable).toBe(6);
  });

  it('a spilled pointer restored from the stack', () => {
    expect(() => verify(decode(assemble('stxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\nldxb %r0, [%r2+15]\nexit')), hook)).not.toThrow();
  });
});
