// Hooks: where an extension may run and what it is given. The conformance
// hook mirrors the BPF conformance suite's environment (r1 points at the
// test's memory, r2 holds its length, helper 5 is "unwind").

import { type HelperTable, helperMap, helperSpecs } from './helpers.ts';
import { Vm, type VmHelper } from './interp.ts';
import type { HookSpec } from './verifier.ts';

/** Instructions one conformance run may execute before it is stopped. */
export const CONFORMANCE_BUDGET = 10_000_000;

/** The suite's one helper: "unwind" stops the program when r1 is zero. */
const CONFORMANCE_HELPERS = { unwind: { id: 5, args: [{ kind: 'any' }], unwindOnZero: true } } as const satisfies HelperTable;

export function conformanceHook(memLength: number): { hook: HookSpec; helpers: ReadonlyMap<number, VmHelper>; args: bigint[] } {
  const MEM = 2;
  const hook: HookSpec = {
    name: 'conformance',
    regions: memLength > 0 ? [{ id: MEM, name: 'mem', size: memLength, writable: true }] : [],
    args: memLength > 0 ? [{ kind: 'ptr', region: MEM, offset: 0 }, { kind: 'scalar', value: BigInt(memLength) }] : [{ kind: 'scalar', value: 0n }, { kind: 'scalar', value: 0n }],
    helpers: helperSpecs(CONFORMANCE_HELPERS),
    maxInsns: 65_536,
    pointerReturn: true,
  };
  return { hook, helpers: helperMap(CONFORMANCE_HELPERS, { unwind: (r) => r.get(1) }), args: memLength > 0 ? [Vm.pointer(MEM, 0), BigInt(memLength)] : [0n, 0n] };
}
