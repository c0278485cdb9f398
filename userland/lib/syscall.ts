// The raw system call: number in rax, arguments in rdi, rsi, rdx, r10, r8,
// r9, trap, result from rax (negative values are -errno).

import { SYSCALL, type U, type UserCpu, checkOwner } from './ops.ts';

const ARGS = ['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'] as const;

export type Arg = number | bigint;

export function* syscall(cpu: UserCpu, nr: number, ...args: Arg[]): U<bigint> {
  load(cpu, nr, args);
  yield SYSCALL;
  return BigInt.asIntN(64, cpu.get('rax'));
}

/**
 * Same, with the result as a JS number (addresses and counts fit). Its own
 * generator over the same set-up rather than one around syscall's: one
 * generator and one argument array per call fewer on every syscall.
 */
export function* syscallN(cpu: UserCpu, nr: number, ...args: Arg[]): U<number> {
  load(cpu, nr, args);
  yield SYSCALL;
  return Number(BigInt.asIntN(64, cpu.get('rax')));
}

/** Checks the number and arguments and puts them in their registers. */
function load(cpu: UserCpu, nr: number, args: readonly Arg[]): void {
  checkOwner(cpu);
  if (args.length > 6) throw new RangeError('a syscall takes at most six arguments');
  // Registers hold 64-bit integers: a fraction is cut to its whole part, as a
  // C cast would, but NaN or Infinity is a bug in the caller, said as such.
  if (!Number.isSafeInteger(nr)) throw new RangeError(`syscall number ${nr} is not a whole number`);
  // Loops, not forEach: this runs on every syscall of every rank.
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a === 'number' && !Number.isFinite(a)) throw new RangeError(`syscall ${nr}: argument ${i + 1} is ${a}, not a finite number`);
    if (typeof a !== 'number' && typeof a !== 'bigint') throw new TypeError(`syscall ${nr}: argument ${i + 1} is a ${typeof a}, not a number`);
  }
  cpu.set('rax', nr);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    cpu.set(ARGS[i], typeof a === 'number' ? BigInt(Math.trunc(a)) : a);
  }
}
