// Hooks: where an extension may run and what it is given. The conformance
// hook mirrors the BPF conformance suite's environment (r1 points at the
// test's memory, r2 holds its length, helper 5 is "unwind").

import { Vm, type VmHelper } from './interp.ts';
import type { HookSpec } from './verifier.ts';

/** Instructions one conformance run may execute before it is stopped. */
export const CONFORMANCE_BUDGET = 10_000_000;

export const UNWIND_HELPER: VmHelper = { id: 5, name: 'unwind', call: (r) => r.get(1), unwindOnZero: true };

export function conformanceHook(memLength: number): { hook: HookSpec; helpers: ReadonlyMap<number, VmHelper>; args: bigint[] } {
  const MEM = 2;
  const hook: HookSpec = {
    name: 'conformance',
    regions: memLength > 0 ? [{ id: MEM, name: 'mem', size: memLength, writable: true }] : [],
    args: memLength > 0 ? [{ kind: 'ptr', region: MEM, offset: 0 }, { kind: 'scalar', value: BigInt(memLength) }] : [{ kind: 'scalar', value: 0n }, { kind: 'scalar', value: 0n }],
    helpers: [{ id: 5, name: 'unwind', args: [{ kind: 'any' }] }],
    maxInsns: 65_536,
    pointerReturn: true,
  };
  return { hook, helpers: new Map([[5, UNWIND_HELPER]]), args: memLength > 0 ? [Vm.pointer(MEM, 0), BigInt(memLength)] : [0n, 0n] };
}
