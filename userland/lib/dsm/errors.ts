// What a failed DSM call means, in one line: the errno's name and what it
// means for that call (the kernel DSM's reasons, docs/DSM-KERNEL.md's API
// table). The user DSM answers a misused lock with the same errno and the
// same words, so a program sees one meaning whichever DSM serves it.

import { ERRNO } from '../abi.gen.ts';
import { DsmError } from './api.ts';

const NAMES = new Map<number, string>(Object.entries(ERRNO).map(([k, v]) => [v, k]));

/** `EBUSY` for 16; `errno N` for a number the ABI does not name. */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `errno ${errno}`;
}

export type DsmCall = 'create' | 'attach' | 'detach' | 'lock' | 'unlock' | 'barrier' | 'stats';

const NO_REGION = 'no region is attached (it was never opened, or it was detached)';

/** What each -errno of each call means for the program (the kernel's reasons: kernel/dsm/calls.ts). */
const MEANING: Readonly<Record<DsmCall, Readonly<Partial<Record<keyof typeof ERRNO, string>>>>> = {
  create: {
    ESRCH: 'a rank of the job ended before it created its part, or rank 0 is gone',
    EBUSY: "a rank's node still holds the job's previous region; try again",
    EEXIST: "this rank's region exists: detach it first",
    EINVAL: 'the ranks asked for different sizes, one could not create its part, or two ranks share a node',
    ENOMEM: "no contiguous memory for the region's frames on this node",
    EAGAIN: "rank 0's node has too many creates pending; try again",
  },
  attach: {
    ENOENT: 'the job has no region on this node, or this rank detached it (detach is final)',
    EBUSY: "another process has this rank's region attached",
    ENOMEM: "the region's address is already mapped in this process",
  },
  detach: { ENOENT: NO_REGION },
  lock: {
    ENOENT: NO_REGION,
    EINVAL: 'lock ids are 0 to 2^31-1',
    EBUSY: 'this rank holds the lock already',
    ESRCH: 'a rank ended holding the lock: what it guards may be half-written',
    ENOSPC: "the lock's manager keeps 1024 locks in use already",
  },
  unlock: { ENOENT: NO_REGION, EINVAL: 'lock ids are 0 to 2^31-1', EPERM: 'this rank does not hold the lock' },
  barrier: { ENOENT: NO_REGION, ESRCH: 'a rank left the region before entering this barrier' },
  stats: { ENOENT: NO_REGION, EFAULT: "the counters' buffer is not writable memory" },
};

/** The error for `call` (e.g. `lock(0)`) of kind `kind` failing with -`errno`. */
export function callFailed(kind: DsmCall, call: string, errno: number): DsmError {
  const name = errnoName(errno);
  const meaning = (MEANING[kind] as Record<string, string | undefined>)[name];
  return new DsmError(`dsm: ${call} failed: ${name}${meaning === undefined ? '' : ` (${meaning})`}`);
}
