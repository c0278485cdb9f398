import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../kernel/ext/asm.ts';
import { disassemble } from '../../kernel/ext/disasm.ts';
import { DecodeError, decode, encode } from '../../kernel/ext/isa.ts';
import { load } from '../../kernel/ext/loader.ts';
import { parseTestCase } from '../../kernel/ext/suite.ts';
import { VerifyError, type HookSpec } from '../../kernel/ext/verifier.ts';
import { Vm } from '../../kernel/ext/interp.ts';
import { VmMemory } from '../../kernel/ext/vmmem.ts';
import { itWithSuite } from '../conformance/suites.ts';

const MEM = 2;
const HOOK: HookSpec = {
  name: 'test',
  regions: [{ id: MEM, name: 'mem', size: 64, writable: true }],
  args: [{ kind: 'ptr', region: MEM, offset: 0 }],
  helpers: [],
  maxInsns: 4096,
  pointerReturn: false,
};

// Random straight-line and forward-branching programs over initialised registers and memory.
const reg = fc.integer({ min: 0, max: 9 });
const aluOps = ['add', 'sub', 'mul', 'div', 'sdiv', 'mod', 'smod', 'or', 'and', 'xor', 'lsh', 'rsh', 'arsh', 'mov'];
const line = fc.oneof(
  fc.tuple(fc.constantFrom(...aluOps), fc.boolean(), reg, reg, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })).map(([op, w32, d, s, imm]) => (d === 1 ? `mov %r0, ${imm}` : `${op}${w32 ? '32' : ''} %r${d}, ${imm % 3 === 0 ? `%r${s === 1 ? 2 : s}` : imm}`)),
  fc.tuple(fc.constantFrom('neg', 'neg32', 'be16', 'be32', 'be64', 'le16', 'le32', 'bswap64'), reg).map(([op, d]) => `${op} %r${d === 1 ? 0 : d}`),
  fc.tuple(fc.constantFrom('b', 'h', 'w', 'dw'), fc.integer({ min: 0, max: 7 }), reg).map(([sz, slot, r]) => `stx${sz} [%r1+${slot * 8}], %r${r === 1 ? 0 : r}`),
  fc.tuple(fc.constantFrom('b', 'h', 'w', 'dw', 'sb', 'sh', 'sw'), fc.integer({ min: 0, max: 7 }), reg).map(([sz, slot, r]) => `ldx${sz} %r${r === 1 ? 0 : r}, [%r1+${slot * 8}]`),
  fc.tuple(fc.constantFrom('add', 'or', 'and', 'xor', 'xchg', 'cmpxchg'), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 7 }), reg).map(([op, fetch, w32, slot, r]) => `lock ${fetch && op !== 'xchg' && op !== 'cmpxchg' ? 'fetch ' : ''}${op}${w32 ? '32' : ''} [%r1+${slot * 8}], %r${r === 1 ? 0 : r}`),
  fc.tuple(fc.constantFrom('jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle', 'jset'), fc.boolean(), reg, fc.integer({ min: -5, max: 5 }), fc.integer({ min: 0, max: 3 })).map(([op, w32, d, imm, skip]) => `${op}${w32 ? '32' : ''} %r${d}, ${imm}, +${skip}`),
);
const program = fc.array(line, { minLength: 1, maxLength: 40 }).map((lines) => {
  const init = ['mov %r0, 1', 'mov %r2, -7', 'mov %r3, 3', 'lddw %r4, 0x8000000000000001', 'mov %r5, 0', 'mov %r6, 65535', 'mov %r7, -1', 'mov %r8, 32', 'mov %r9, 63'];
  return [...init, ...lines, 'mov %r0, %r0', 'exit', 'exit', 'exit', 'exit'].join('\n');
});

function runBoth(src: string) {
  const prog = load(assemble(src), HOOK, new Map());
  const results = (['interp', 'jit'] as const).map((engine) => {
    const mem = new VmMemory();
    const bytes = new Uint8Array(64).map((_, i) => (i * 37) & 0xff);
    mem.add('mem', bytes, true);
    const out = prog.run(engine, mem, [Vm.pointer(MEM, 0)], 100_000);
    return { status: out.status, insns: out.insns, mem: [...bytes] };
  });
  return results;
}

describe('the interpreter and the compiler', () => {
  it('give identical results, memory and instruction counts on random verified programs', () => {
    fc.assert(
      fc.property(program, (src) => {
        const [a, b] = runBoth(src);
        expect(b.status).toEqual(a.status);
        expect(b.mem).toEqual(a.mem);
        expect(b.insns).toBe(a.insns);
      }),
      { numRuns: 400 },
    );
  });

  it('both stop a runaway loop at the budget', () => {
    const prog = load(assemble('mov %r0, 0\nloop:\nadd %r0, 1\njne %r0, 0, loop\nexit'), { ...HOOK, args: [] }, new Map());
    for (const engine of ['interp', 'jit'] as const) {
      const out = prog.run(engine, new VmMemory(), [], 10_000);
      expect(out.status).toEqual({ kind: 'limit' });
      expect(out.insns).toBeLessThanOrEqual(10_000);
    }
  });

  it('step the interpreter one instruction at a time', () => {
    const prog = load(assemble('mov %r0, 1\nadd %r0, 2\nexit'), { ...HOOK, args: [] }, new Map());
    const vm = prog.interpreter(new VmMemory(), []);
    expect(vm.run(1)).toEqual({ kind: 'limit' });
    expect([vm.pc, vm.get(0)]).toEqual([1, 1n]);
    expect(vm.run(1)).toEqual({ kind: 'limit' });
    expect(vm.get(0)).toBe(3n);
    expect(vm.run(1)).toEqual({ kind: 'exit', r0: 3n });
  });
});

describe('hostile bytecode', () => {
  it('never crashes or hangs the host: it is rejected with a reason or stopped by the budget', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 256 }), (bytes) => {
        try {
          const prog = load(bytes, HOOK, new Map());
          for (const engine of ['interp', 'jit'] as const) {
            const mem = new VmMemory();
            mem.add('mem', new Uint8Array(64), true);
            const out = prog.run(engine, mem, [Vm.pointer(MEM, 0)], 10_000);
            expect(['exit', 'limit', 'fault']).toContain(out.status.kind);
          }
        } catch (e) {
          expect(e instanceof VerifyError || e instanceof DecodeError, String(e)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('valid-looking instructions with random fields are handled the same way', () => {
    const insn = fc.record({ op: fc.constantFrom(0x07, 0x0f, 0x61, 0x62, 0x63, 0x79, 0x7b, 0x85, 0x8d, 0x95, 0x05, 0x15, 0x18, 0xc3, 0xdb, 0xd4, 0xdc, 0xbf, 0x3f, 0x9f), dst: fc.integer({ min: 0, max: 15 }), src: fc.integer({ min: 0, max: 15 }), off: fc.integer({ min: -40, max: 40 }), imm: fc.integer({ min: -100, max: 100 }) });
    fc.assert(
      fc.property(fc.array(insn, { minLength: 1, maxLength: 30 }), (insns) => {
        try {
          const prog = load(encode(insns), HOOK, new Map());
          const mem = new VmMemory();
          mem.add('mem', new Uint8Array(64), true);
          prog.run('jit', mem, [Vm.pointer(MEM, 0)], 10_000);
        } catch (e) {
          expect(e instanceof VerifyError || e instanceof DecodeError, String(e)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('the assembler and disassembler', () => {
  itWithSuite('ebpf', 'round-trip every program of the conformance suite', (dir) => {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.data'))) {
      const tc = parseTestCase(f, readFileSync(join(dir, f), 'utf8'));
      if (tc.asm === null) continue;
      const bytes = assemble(tc.asm);
      const text = disassemble(decode(bytes)).join('\n');
      expect(assemble(text), f).toEqual(bytes);
    }
  });

  it('report the line of a mistake', () => {
    expect(() => assemble('mov %r0, 1\nfrobnicate %r1\nexit')).toThrow('line 2: unknown instruction');
    expect(() => assemble('jne %r0, 1, nowhere\nexit')).toThrow("line 1: unknown label 'nowhere'");
    expect(() => assemble('mov %r11, 1')).toThrow(/line 1: expected a register/);
  });
});
