// The raw system call: number in rax, arguments in rdi, rsi, rdx, r10, r8,
// r9, trap, result from rax (negative values are -errno).

import { type U, type UserCpu, trap } from './ops.ts';

const ARGS = ['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'] as const;

export type Arg = number | bigint;

export function* syscall(cpu: UserCpu, nr: number, ...args: Arg[]): U<bigint> {
  if (args.length > 6) throw new RangeError('a syscall takes at most six arguments');
  cpu.set('rax', nr);
  args.forEach((a, i) => cpu.set(ARGS[i], typeof a === 'number' ? BigInt(Math.trunc(a)) : a));
  yield* trap();
  return BigInt.asIntN(64, cpu.get('rax'));
}

/** Same, with the result as a JS number (addresses and counts fit). */
export function* syscallN(cpu: UserCpu, nr: number, ...args: Arg[]): U<number> {
  return Number(yield* syscall(cpu, nr, ...args));
}
