// The DSM implementations openDsm can dispatch to (one table).
// The kernel implementation (./kernel.ts, openKernelDsm) joins this table
// when the h-dsmk branch is merged.

import type { U } from '../ops.ts';
import type { Env } from '../runtime.ts';
import type { Dsm, DsmImpl, DsmOptions } from './api.ts';
import { openUserDsm } from './user.ts';

export type DsmOpener = (env: Env, bytes: number, opts?: DsmOptions) => U<Dsm>;

export const DSM_IMPLS: Partial<Record<DsmImpl, DsmOpener>> = { user: openUserDsm };
