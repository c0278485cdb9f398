// Loading an extension: decode, verify against the hook, then run it with
// either engine. The compiler only ever sees a program that verified.

import { assemble } from './asm.ts';
import { type Program, decode } from './isa.ts';
import { Vm, type VmHelper, type VmStatus, atomicOp, callHelper } from './interp.ts';
import { type CompiledRun, compile } from './jit.ts';
import { type HookSpec, type VerifyResult, verify } from './verifier.ts';
import type { VmMemory } from './vmmem.ts';

export type Engine = 'interp' | 'jit';

export interface RunOutcome {
  readonly status: VmStatus;
  readonly insns: number;
}

export class LoadedProgram {
  private compiled: CompiledRun | null = null;
  /** Helpers of the run in progress (a hook may bind helpers to the event it serves). */
  private active: ReadonlyMap<number, VmHelper>;

  constructor(
    readonly prog: Program,
    readonly hook: HookSpec,
    readonly helpers: ReadonlyMap<number, VmHelper>,
    readonly verification: VerifyResult,
  ) {
    this.active = helpers;
  }

  /** A fresh interpreter positioned at the entry (for stepping). */
  interpreter(mem: VmMemory, args: readonly bigint[]): Vm {
    const vm = new Vm(this.prog, mem, this.helpers);
    args.forEach((a, i) => vm.set(i + 1, a));
    return vm;
  }

  /** Runs to completion (or the budget) on the chosen engine, with the hook's helpers or the given ones. */
  run(engine: Engine, mem: VmMemory, args: readonly bigint[], budget: number, helpers: ReadonlyMap<number, VmHelper> = this.helpers): RunOutcome {
    this.active = helpers;
    if (engine === 'interp') {
      const vm = new Vm(this.prog, mem, helpers);
      args.forEach((a, i) => vm.set(i + 1, a));
      const status = vm.run(budget);
      return { status, insns: vm.insns };
    }
    this.compiled ??= compile(this.prog, {
      helpers: this.helpers,
      atomic: atomicOp,
      helper: (m, L, H, id, pc) => callHelper(this.active, m, L, H, id, pc),
      resume: (m, at, left) => {
        const vm = new Vm(this.prog, m, this.active);
        vm.lo.set(at.L);
        vm.hi.set(at.H);
        vm.restore(at.pc, at.frames);
        const status = vm.run(left);
        return { status, insns: vm.insns };
      },
    });
    return this.compiled(mem, args, budget);
  }
}

/** Decodes and verifies bytecode for a hook; throws DecodeError or VerifyError with the reason. */
export function load(bytes: Uint8Array, hook: HookSpec, helpers: ReadonlyMap<number, VmHelper>): LoadedProgram {
  const prog = decode(bytes);
  const result = verify(prog, hook);
  return new LoadedProgram(prog, hook, helpers, result);
}

export function loadAsm(source: string, hook: HookSpec, helpers: ReadonlyMap<number, VmHelper>): LoadedProgram {
  return load(assemble(source), hook, helpers);
}
