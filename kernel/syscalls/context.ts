// What a syscall handler receives, and the argument fetchers (xv6's argint
// and argaddr). Every argument is checked by its declared ABI type
// (table.ts) before the handler runs, so no handler sees a size that is not
// an exact number or a pointer outside user space; every user pointer is
// checked again, page by page, by copyin/copyout.

import { USER_VA_LIMIT } from '../../hw/mmu.ts';
import type { Cpu } from '../cpu.ts';
import { fail } from '../errno.ts';
import type { Kernel } from '../kernel.ts';
import type { Process, Thread } from '../process.ts';
import type { KPath } from '../step.ts';
import type { ArgType, SyscallSpec } from './table.ts';

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
const USER_TOP = BigInt(USER_VA_LIMIT);
const I32_MIN = -(2n ** 31n);
const I32_MAX = 2n ** 31n - 1n;

/** Refuses argument `i` if its raw 64-bit value does not fit its ABI type. */
function checkArg(v: bigint, type: ArgType, i: number, name: string): void {
  const s = BigInt.asIntN(64, v);
  switch (type) {
    case 'int':
    case 'timeout':
      if (s > MAX || s < -MAX) fail('EINVAL', `argument ${i} (${name}) does not fit in 53 bits`);
      return;
    case 'size':
    case 'offset':
      if (v > MAX) fail('EINVAL', `argument ${i} (${name}) is too large`);
      return;
    case 'ptr':
      if (v >= USER_TOP) fail('EFAULT', `argument ${i} (${name}) is not a user address`);
      return;
    case 'fd':
      if (s < I32_MIN || s > I32_MAX) fail('EBADF', `argument ${i} (${name}) is not a file descriptor`);
      return;
    case 'flags':
      if (v > 0xffffffffn) fail('EINVAL', `argument ${i} (${name}) has unknown flag bits`);
      return;
    case 'uint':
      return;
  }
}

/** Checks every declared argument of a call by its type (-EINVAL, -EFAULT or -EBADF). */
function checkArgs(spec: SyscallSpec, args: readonly bigint[]): void {
  // A loop, not forEach with a closure: this runs on every syscall.
  for (let i = 0; i < spec.args.length; i++) checkArg(args[i], spec.args[i][1], i, spec.args[i][0]);
}

/**
 * The handler run only once its arguments passed checkArgs: what the kernel
 * registers. A plain function, not a generator around the handler's: the
 * check throws when the trap starts the handler (inside the trap's try, as
 * before), and every step of the handler no longer passes through one more
 * generator.
 */
export function withCheckedArgs(spec: SyscallSpec, handler: SyscallHandler): SyscallHandler {
  return function checked(c) {
    checkArgs(spec, c.args);
    return handler(c);
  };
}

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
  if (v >= USER_TOP) fail('EFAULT', `argument ${i} is not a user address`);
  return Number(v);
}
