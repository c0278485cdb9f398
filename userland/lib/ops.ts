// The operations user code performs on its core, as generator yields: work
// for a number of cycles, the syscall instruction, and loads and stores
// through the TLB. Everything else in the library is built on these.

import type { FaultUpcall, UserCpu, UserOp, UserResult } from '../../kernel/abi.ts';

export type { UserCpu, UserOp, UserResult, FaultUpcall };

/** A piece of user code returning T. */
export type U<T = void> = Generator<UserOp, T, UserResult>;

/** Burns `cycles` cycles of computation (preemptible by interrupts). */
export function* compute(cycles: number): U {
  yield { op: 'compute', cycles };
}

const SYSCALL: UserOp = { op: 'syscall' };

/** The syscall instruction: number and arguments must already be in registers. */
export function* trap(): U {
  yield SYSCALL;
}

export function isFault(r: UserResult): r is FaultUpcall {
  return typeof r === 'object' && r !== null && !(r instanceof Uint8Array) && (r as FaultUpcall).upcall === 'fault';
}

/** A load as the hardware does it; returns the bytes, or the fault upcall. */
export function* rawLoad(va: number, len: number): U<Uint8Array | FaultUpcall> {
  const r = yield { op: 'load', va, len };
  return r as Uint8Array | FaultUpcall;
}

/** A store as the hardware does it; returns the fault upcall if the store faulted. */
export function* rawStore(va: number, bytes: Uint8Array): U<FaultUpcall | undefined> {
  const r = yield { op: 'store', va, bytes };
  return isFault(r) ? r : undefined;
}
