// A hook's helpers as one table by name: each helper's id and argument
// kinds. The verifier's signatures (HelperSpec) and the engines' id ->
// implementation map (VmHelper) are both built from it, so an id is written
// once and everything else names the helper.

import type { VmHelper } from './interp.ts';
import type { ArgSpec, HelperSpec } from './verifier.ts';

export interface HelperDef {
  readonly id: number;
  /** r1..r5 as the verifier checks them at the call. */
  readonly args: readonly ArgSpec[];
  /** The helper's zero result stops the program (the conformance suite's "unwind"). */
  readonly unwindOnZero?: boolean;
}

export type HelperTable = Readonly<Record<string, HelperDef>>;

/** The signatures the verifier checks calls against. */
export function helperSpecs(table: HelperTable): HelperSpec[] {
  return Object.entries(table).map(([name, h]) => ({ id: h.id, name, args: h.args }));
}

/** The engines' helpers: every helper of the table, by id, with its implementation. */
export function helperMap<T extends HelperTable>(table: T, impl: { readonly [K in keyof T]: VmHelper['call'] }): Map<number, VmHelper> {
  return new Map(
    Object.entries(table).map(([name, h]) => [h.id, { id: h.id, name, call: impl[name as keyof T], ...(h.unwindOnZero ? { unwindOnZero: true } : {}) }] as const),
  );
}
