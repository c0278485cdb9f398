// The kernel implementation of the Dsm interface (api.ts): the protocol runs
// in the kernel (kernel/dsm/), so a fault on the region is served without a
// system call or a user-level handler. This file only wraps the dsm_* calls.

import { SYS } from '../abi.gen.ts';
import type { U } from '../ops.ts';
import type { Env } from '../runtime.ts';
import { type Dsm, DsmError, type DsmStats } from './api.ts';
import { type DsmCall, callFailed } from './errors.ts';

/** The words dsm_stats writes, in the kernel's order (a test checks it against kernel/dsm/calls.ts). */
export const KERNEL_STATS_WORDS = ['faults', 'readFaults', 'writeFaults', 'invalidations', 'syscalls', 'messages', 'faultNs', 'served', 'grants', 'dataBytes'] as const;

/** The largest kernel region (a test checks it against kernel/dsm/calls.ts). */
export const KERNEL_DSM_MAX_BYTES = 2 ** 30;

/** Creates (collectively: every rank must call it) the job's region in the kernel and returns the Dsm over it. */
export function* openKernelDsm(env: Env, bytes: number): U<Dsm> {
  const { sys, mem } = env;
  // The kernel's bound (kernel/dsm/calls.ts MAX_DSM_BYTES); a size that is no whole number never reaches a register.
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes > KERNEL_DSM_MAX_BYTES) throw new DsmError(`dsm: a region is 1 byte to ${KERNEL_DSM_MAX_BYTES} bytes, got ${bytes}`);
  const created = yield* sys.raw(SYS.dsm_create, bytes);
  if (created < 0) throw callFailed('create', `dsm_create(${bytes})`, -created);
  const base = yield* sys.raw(SYS.dsm_attach);
  if (base < 0) throw callFailed('attach', 'dsm_attach', -base);
  const size = Math.ceil(bytes / 4096) * 4096;
  const statsBuf = yield* mem.alloc(8 * KERNEL_STATS_WORDS.length);
  function* check(kind: DsmCall, what: string, r: number): U {
    if (r < 0) throw callFailed(kind, what, -r);
  }
  return {
    base,
    bytes: size,
    *lock(id: number) {
      yield* check('lock', `lock(${id})`, yield* sys.raw(SYS.dsm_lock, id));
    },
    *unlock(id: number) {
      yield* check('unlock', `unlock(${id})`, yield* sys.raw(SYS.dsm_unlock, id));
    },
    *barrier() {
      yield* check('barrier', 'barrier', yield* sys.raw(SYS.dsm_barrier));
    },
    *detach() {
      yield* check('detach', 'detach', yield* sys.raw(SYS.dsm_detach));
    },
    *stats(): U<DsmStats> {
      yield* check('stats', 'stats', yield* sys.raw(SYS.dsm_stats, statsBuf));
      const w: Record<string, number> = {};
      for (let i = 0; i < KERNEL_STATS_WORDS.length; i++) w[KERNEL_STATS_WORDS[i]] = Number(yield* mem.loadU64(statsBuf + 8 * i));
      // One crossing per fault (the exception in and out) and one per DSM call: nothing else runs at user level.
      return { faults: w.faults, readFaults: w.readFaults, writeFaults: w.writeFaults, invalidations: w.invalidations, syscalls: w.syscalls, crossings: w.faults + w.syscalls, messages: w.messages, switches: 0, faultNs: w.faultNs };
    },
  };
}
