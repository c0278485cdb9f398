// What a hook promises a program (its regions, registers at entry and
// helpers) and how the verifier refuses one: the contract between a hook,
// the loader and the verifier.

export interface RegionSpec {
  readonly id: number;
  readonly name: string;
  readonly size: number;
  readonly writable: boolean;
}

export type ArgSpec =
  | { readonly kind: 'scalar' }
  | { readonly kind: 'any' }
  /** A pointer to at least `sizeArg`'s value bytes (or `bytes`) of readable (or writable) memory. */
  | { readonly kind: 'mem'; readonly write: boolean; readonly sizeArg?: number; readonly bytes?: number };

export interface HelperSpec {
  readonly id: number;
  readonly name: string;
  readonly args: readonly ArgSpec[];
}

export type InitialReg = { readonly kind: 'uninit' } | { readonly kind: 'scalar'; readonly value?: bigint } | { readonly kind: 'ptr'; readonly region: number; readonly offset: number };

/** What a hook promises a program: its regions, its registers at entry, its helpers. */
export interface HookSpec {
  readonly name: string;
  /** Regions other than the stack. */
  readonly regions: readonly RegionSpec[];
  /** r1..r5 at entry. */
  readonly args: readonly InitialReg[];
  readonly helpers: readonly HelperSpec[];
  readonly maxInsns: number;
  /** Whether r0 may hold a pointer at exit (a leak a kernel hook must refuse). */
  readonly pointerReturn: boolean;
  /** 'reject': a division or modulo by a constant zero is refused (by default it is defined: x / 0 = 0, x % 0 = x). */
  readonly divByZero?: 'reject';
}

export class VerifyError extends Error {
  /** Abstract steps the analysis had taken when it refused (what the caller is charged for). */
  steps = 0;

  constructor(
    readonly pc: number,
    readonly reason: string,
  ) {
    super(`instruction ${pc}: ${reason}`);
    this.name = 'VerifyError';
  }
}
