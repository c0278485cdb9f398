// Kernel paths are generators of directives. A step names what the kernel
// is doing and what it costs; the core charges the cycles, emits a trace
// record and resumes the path when the step is over. `block` suspends the
// current thread (the path continues when it is woken, with the wake value);
// `spin` keeps the core busy in the kernel until a condition holds.

import type { TracePath } from './tracepaths.ts';

export type { TracePath } from './tracepaths.ts';

export interface KStep {
  readonly kind: 'step';
  readonly path: TracePath;
  readonly step: string;
  readonly cycles: number;
  readonly detail: string;
}

export interface KBlock {
  readonly kind: 'block';
}

export interface KSpin {
  readonly kind: 'spin';
  readonly until: () => boolean;
  readonly what: string;
}

export type KDirective = KStep | KBlock | KSpin;

/** A kernel path returning T. */
export type KPath<T = void> = Generator<KDirective, T, unknown>;

/** A step directive; use as `yield step(...)` inside a kernel path. */
export function step(path: TracePath, name: string, cycles: number, detail = ''): KStep {
  return { kind: 'step', path, step: name, cycles, detail };
}

const BLOCK: KBlock = { kind: 'block' };

/** Suspends the calling thread until someone wakes it; returns the wake value. */
export function* block(): KPath<unknown> {
  return yield BLOCK;
}

export function* spin(what: string, until: () => boolean): KPath {
  if (!until()) yield { kind: 'spin', until, what };
}
