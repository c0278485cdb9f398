// Issue 10, item 6: the interpreter and the compiled engine agree exactly on
// the instruction budget and on the count at a fault, so what a stopped run
// leaves behind does not depend on the engine.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../kernel/ext/asm.ts';
import { decode } from '../../kernel/ext/isa.ts';
import { Vm } from '../../kernel/ext/interp.ts';
import { LoadedProgram, load } from '../../kernel/ext/loader.ts';
import type { HookSpec } from '../../kernel/ext/verifier.ts';
import { VmMemory } from '../../kernel/ext/vmmem.ts';

const MEM = 2;
const HOOK: HookSpec = { name: 'test', regions: [{ id: MEM, name: 'mem', size: 64, writable: true }], args: [{ kind: 'ptr', region: MEM, offset: 0 }], helpers: [], maxInsns: 4096, pointerReturn: false };

function both(prog: LoadedProgram, budget: number) {
  return (['interp', 'jit'] as const).map((engine) => {
    const mem = new VmMemory();
    const bytes = new Uint8Array(64);
    mem.add('mem', bytes, true);
    const out = prog.run(engine, mem, [Vm.pointer(MEM, 0)], budget);
    return { ...out, mem: [...bytes] };
  });
}

describe('an instruction budget that runs out inside a basic block', () => {
  const prog = load(assemble('stb [%r1], 1\nstb [%r1+1], 2\nstb [%r1+2], 3\nstb [%r1+3], 4\nmov %r0, 0\nexit'), HOOK, new Map());
  it('stops both engines after exactly the budget, with the same stores done', () => {
    for (let budget = 0; budget <= 6; budget++) {
      const [a, b] = both(prog, budget);
      expect(b).toEqual(a);
      expect(a.insns).toBe(budget);
      expect(a.mem.slice(0, 4)).toEqual([1, 2, 3, 4].map((v, i) => (i < budget ? v : 0)));
    }
  });

  it('stops a loop at the same instruction on both engines, for every budget', () => {
    const loop = load(assemble('mov %r0, 0\nmov %r2, 0\nloop:\nadd %r0, 3\nstxb [%r1], %r0\nadd %r2, 1\njlt %r2, 50, loop\nexit'), HOOK, new Map());
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 260 }), (budget) => {
        const [a, b] = both(loop, budget);
        expect(b).toEqual(a);
        expect(a.insns).toBe(Math.min(budget, 203));
      }),
      { numRuns: 150 },
    );
  });
});

describe('a fault in the middle of a basic block', () => {
  // Not verifiable (it loads through a number): run the engines' own checks directly.
  const prog = new LoadedProgram(decode(assemble('stb [%r1], 7\nmov %r2, 1000\nadd %r2, %r1\nldxb %r0, [%r2]\nstb [%r1+1], 9\nexit')), HOOK, new Map(), { steps: 0, reachable: 6 });
  it('counts the faulting instruction and nothing after it, on both engines', () => {
    const [a, b] = both(prog, 1000);
    expect(a.status).toMatchObject({ kind: 'fault', pc: 3 });
    expect(a.insns).toBe(4);
    expect(b).toEqual(a);
    expect(a.mem.slice(0, 2)).toEqual([7, 0]);
  });
});
