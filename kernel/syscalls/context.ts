// What a syscall handler receives, and the argument fetchers (xv6's argint
// and argaddr): every numeric argument is checked here, every user pointer
// later by copyin/copyout.

import type { Cpu } from '../cpu.ts';
import { fail } from '../errno.ts';
import type { Kernel } from '../kernel.ts';
import type { Process, Thread } from '../process.ts';
import type { KPath } from '../step.ts';

export interface SyscallCtx {
  readonly k: Kernel;
  readonly cpu: Cpu;
  readonly t: Thread;
  readonly p: Process;
  /** rdi, rsi, rdx, r10, r8, r9 as unsigned 64-bit values. */
  readonly args: readonly bigint[];
}

/** A handler returns the value for rax (negative errno is thrown as SyscallError). */
export type SyscallHandler = (c: SyscallCtx) => KPath<number | bigint>;

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Argument i as a signed 64-bit integer; EINVAL if it does not fit in a JS number. */
export function argInt(c: SyscallCtx, i: number): number {
  const v = BigInt.asIntN(64, c.args[i]);
  if (v > MAX || v < -MAX) fail('EINVAL', `argument ${i} out of range`);
  return Number(v);
}

/** Argument i as a signed 32-bit int (as C's int). */
export function argInt32(c: SyscallCtx, i: number): number {
  return Number(BigInt.asIntN(32, c.args[i]));
}

/** Argument i as an unsigned size; EINVAL if it exceeds 2^53. */
export function argSize(c: SyscallCtx, i: number): number {
  const v = c.args[i];
  if (v > MAX) fail('EINVAL', `argument ${i} is too large`);
  return Number(v);
}

/** Argument i as a user address; EFAULT if it cannot be one. */
export function argPtr(c: SyscallCtx, i: number): number {
  const v = c.args[i];
  if (v >= 2n ** 47n) fail('EFAULT', `argument ${i} is not a user address`);
  return Number(v);
}
