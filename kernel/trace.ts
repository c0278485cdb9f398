// The trace record: what the kernel hands its host for each step. The
// recorder that keeps, hashes and streams them is the simulator's
// (system/trace.ts); the kernel only emits.

import type { TracePath } from './step.ts';

export interface TraceRecord {
  readonly t: number;
  readonly node: number;
  readonly core: number;
  readonly pid: number;
  readonly path: TracePath;
  readonly step: string;
  readonly detail: string;
  /** How long the step takes on its core (ps); 0 for marks such as a context switch. */
  readonly dur?: number;
}
