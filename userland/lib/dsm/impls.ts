// The DSM implementations openDsm can dispatch to (one table).

import type { U } from '../ops.ts';
import type { Env } from '../runtime.ts';
import type { Dsm, DsmImpl, DsmOptions } from './api.ts';
import { openKernelDsm } from './kernel.ts';
import { openUserDsm } from './user.ts';

export type DsmOpener = (env: Env, bytes: number, opts?: DsmOptions) => U<Dsm>;

export const DSM_IMPLS: Partial<Record<DsmImpl, DsmOpener>> = { kernel: openKernelDsm, user: openUserDsm };
