// The DSM implementations openDsm can dispatch to (one table).
// The kernel implementation (./kernel.ts, openKernelDsm) joins this table
// when the h-dsmk branch is merged.

import type { U } from '../ops.ts';
import type { Env } from '../runtime.ts';
import type { Dsm, DsmImpl } from './api.ts';

export type DsmOpener = (env: Env, bytes: number) => U<Dsm>;

export const DSM_IMPLS: Partial<Record<DsmImpl, DsmOpener>> = {};
