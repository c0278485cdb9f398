// The one interface DSM programs use, whichever implementation serves the
// faults: 'kernel' (the protocol in the kernel, next to the NIC — seed 003)
// or 'user' (the same protocol at user level: mprotect + env.onFault +
// Portals messages — the baseline the seed argues against).
//
// The shared region is plain memory at `base` on every rank: programs use
// env.mem loads and stores; a fault on a page this node may not access runs
// the protocol. Sequential consistency holds for every location in the
// region; lock/unlock and barrier are the synchronisation the apps need.
//
// Implementations:
//   ./user.ts   exports openUserDsm(env, bytes, opts?: DsmOptions): U<Dsm>
//   ./kernel.ts exports openKernelDsm(env, bytes, opts?: DsmOptions): U<Dsm>
// openDsm dispatches to them through ./impls.ts (one table of implementations).

import type { U } from '../ops.ts';
import type { Env } from '../runtime.ts';
import { DSM_IMPLS } from './impls.ts';

/** Counters measured by an implementation on this rank since openDsm. */
export interface DsmStats {
  /** Faults on the shared region served by the protocol (read + write). */
  readonly faults: number;
  readonly readFaults: number;
  readonly writeFaults: number;
  /** Page copies this rank invalidated (its own or, as manager, others'). */
  readonly invalidations: number;
  /** System calls made by the DSM on this rank (protocol + locks + barriers). */
  readonly syscalls: number;
  /** Entries into the kernel from the DSM's user code: system calls plus faults on the region (each returns to user mode once). */
  readonly crossings: number;
  /** Protocol messages this rank sent. */
  readonly messages: number;
  /** Context switches to a DSM service thread (the user DSM's communication thread; 0 in the kernel). */
  readonly switches: number;
  /** Protocol messages the user DSM dropped as malformed or unexpected (and events its full queue lost); the kernel DSM counts its drops in the trace. */
  readonly dropped?: number;
  /** Simulated ns from fault to resumed access, summed (the kernel DSM measures it; the user DSM would need a clock syscall per fault, so it leaves it out). */
  readonly faultNs?: number;
}

export interface Dsm {
  readonly base: number; // VA of the shared region (same on every rank); plain env.mem loads/stores
  readonly bytes: number;
  lock(id: number): U; // global lock, sequentially consistent acquire
  unlock(id: number): U;
  barrier(): U; // all ranks of the job
  detach(): U;
  stats(): U<DsmStats>; // { faults, readFaults, writeFaults, invalidations, syscalls, crossings, ... } measured
}

export type DsmImpl = 'kernel' | 'user';

/** Options an implementation may take (others ignore them). */
export interface DsmOptions {
  /** User DSM: who serves requests arriving while the application computes ('thread', the default, or 'poll'). */
  readonly mode?: 'thread' | 'poll';
}

export const DSM_IMPL_NAMES: readonly DsmImpl[] = ['kernel', 'user'];

/** Thrown (the process then exits with this message) when openDsm cannot open a region. */
export class DsmError extends Error {}

/** Opens (creates on first use) the job's shared region; every rank of the job must call it. */
export function* openDsm(env: Env, impl: DsmImpl, bytes: number, opts: DsmOptions = {}): U<Dsm> {
  const open = DSM_IMPLS[impl];
  if (open === undefined) throw new DsmError(`dsm: implementation '${impl}' is not built in (have: ${Object.keys(DSM_IMPLS).join(', ')})`);
  return yield* open(env, bytes, opts);
}
