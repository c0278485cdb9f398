import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ElfError, loadElf } from '../../kernel/ext/elf.ts';
import { conformanceHook } from '../../kernel/ext/hooks.ts';
import { load } from '../../kernel/ext/loader.ts';
import { VmMemory } from '../../kernel/ext/vmmem.ts';

// test/fixtures/handler.o was built from test/fixtures/handler.c with clang-14 -target bpf -O2 -c.
const OBJ = new Uint8Array(readFileSync('test/fixtures/handler.o'));

function runSection(name: string, mem: Uint8Array) {
  const { hook, helpers, args } = conformanceHook(mem.length);
  const prog = load(loadElf(OBJ, name).bytes, hook, helpers);
  return (['interp', 'jit'] as const).map((engine) => {
    const m = new VmMemory();
    m.add('mem', mem.slice(), true);
    return prog.run(engine, m, args, 100_000).status;
  });
}

describe('ELF objects from clang -target bpf', () => {
  it('list their program sections', () => {
    expect(loadElf(OBJ).sections).toEqual(['margay/sum', 'margay/unwind']);
  });

  it('run with local calls resolved from relocations', () => {
    const mem = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    let want = 0n;
    for (const b of mem) want = BigInt.asUintN(64, want * 31n + BigInt(b));
    for (const st of runSection('margay/sum', mem)) expect(st).toEqual({ kind: 'exit', r0: want });
  });

  it('call helpers by number', () => {
    for (const st of runSection('margay/unwind', new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0]))) expect(st).toEqual({ kind: 'exit', r0: 0n });
    for (const st of runSection('margay/unwind', new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0]))) expect(st).toEqual({ kind: 'exit', r0: 7n });
  });

  it('refuse malformed objects with a reason, never a host error', () => {
    expect(() => loadElf(new Uint8Array(10))).toThrow(/too short/);
    expect(() => loadElf(OBJ, 'nope')).toThrow(/no program section 'nope'/);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: OBJ.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, v) => {
        const bad = OBJ.slice();
        bad[at] = v;
        try {
          loadElf(bad);
        } catch (e) {
          expect(e, String(e)).toBeInstanceOf(ElfError);
        }
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: OBJ.length }), (n) => {
        try {
          loadElf(OBJ.subarray(0, n));
        } catch (e) {
          expect(e, String(e)).toBeInstanceOf(ElfError);
        }
      }),
    );
  });
});
