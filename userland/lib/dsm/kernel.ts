// The kernel implementation of the Dsm interface (api.ts): the protocol runs
// in the kernel (kernel/dsm/), so a fault on the region is served without a
// system call or a user-level handler. This file only wraps the dsm_* calls.

import { ERRNO, SYS } from '../abi.gen.ts';
import type { U } from '../ops.ts';
import type { Env } from '../runtime.ts';
import { type Dsm, DsmError, type DsmStats } from './api.ts';

/** The words dsm_stats writes, in the kernel's order (a test checks it against kernel/dsm/calls.ts). */
export const KERNEL_STATS_WORDS = ['faults', 'readFaults', 'writeFaults', 'invalidations', 'syscalls', 'messages', 'faultNs', 'served', 'grants', 'dataBytes'] as const;

/** The largest kernel region (a test checks it against kernel/dsm/calls.ts). */
export const KERNEL_DSM_MAX_BYTES = 2 ** 30;

/** What each -errno of dsm_create means for the program (docs/DSM-KERNEL.md's API table). */
const CREATE_ERRORS: Readonly<Record<number, string>> = {
  [ERRNO.ESRCH]: 'a rank of the job ended before it created its part, or rank 0 is gone',
  [ERRNO.EBUSY]: "a rank's node still holds the job's previous region; try again",
  [ERRNO.EEXIST]: "this rank's region exists: detach it first",
  [ERRNO.EINVAL]: 'the ranks asked for different sizes, one could not create its part, or two ranks share a node',
  [ERRNO.ENOMEM]: "no contiguous memory for the region's frames on this node",
  [ERRNO.EAGAIN]: "rank 0's node has too many creates pending; try again",
};

/** Creates (collectively: every rank must call it) the job's region in the kernel and returns the Dsm over it. */
export function* openKernelDsm(env: Env, bytes: number): U<Dsm> {
  const { sys, mem } = env;
  // The kernel's bound (kernel/dsm/calls.ts MAX_DSM_BYTES); a size that is no whole number never reaches a register.
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes > KERNEL_DSM_MAX_BYTES) throw new DsmError(`dsm: a region is 1 byte to ${KERNEL_DSM_MAX_BYTES} bytes, got ${bytes}`);
  const created = yield* sys.raw(SYS.dsm_create, bytes);
  if (created < 0) throw new DsmError(`dsm: dsm_create(${bytes}) failed: errno ${-created}${CREATE_ERRORS[-created] ? ` (${CREATE_ERRORS[-created]})` : ''}`);
  const base = yield* sys.raw(SYS.dsm_attach);
  if (base < 0) throw new DsmError(`dsm: dsm_attach failed: errno ${-base}`);
  const size = Math.ceil(bytes / 4096) * 4096;
  const statsBuf = yield* mem.alloc(8 * KERNEL_STATS_WORDS.length);
  function* check(what: string, r: number): U {
    if (r < 0) throw new DsmError(`dsm: ${what} failed: errno ${-r}`);
  }
  return {
    base,
    bytes: size,
    *lock(id: number) {
      yield* check(`lock(${id})`, yield* sys.raw(SYS.dsm_lock, id));
    },
    *unlock(id: number) {
      yield* check(`unlock(${id})`, yield* sys.raw(SYS.dsm_unlock, id));
    },
    *barrier() {
      yield* check('barrier', yield* sys.raw(SYS.dsm_barrier));
    },
    *detach() {
      yield* check('detach', yield* sys.raw(SYS.dsm_detach));
    },
    *stats(): U<DsmStats> {
      yield* check('stats', yield* sys.raw(SYS.dsm_stats, statsBuf));
      const w: Record<string, number> = {};
      for (let i = 0; i < KERNEL_STATS_WORDS.length; i++) w[KERNEL_STATS_WORDS[i]] = Number(yield* mem.loadU64(statsBuf + 8 * i));
      // One crossing per fault (the exception in and out) and one per DSM call: nothing else runs at user level.
      return { faults: w.faults, readFaults: w.readFaults, writeFaults: w.writeFaults, invalidations: w.invalidations, syscalls: w.syscalls, crossings: w.faults + w.syscalls, messages: w.messages, switches: 0, faultNs: w.faultNs };
    },
  };
}
