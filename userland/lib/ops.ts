// The operations user code performs on its core, as generator yields: work
// for a number of cycles, the syscall instruction, and loads and stores
// through the TLB. Everything else in the library is built on these.

import type { FaultUpcall, MessageUpcall, UserCpu, UserOp, UserResult } from '../../kernel/abi.ts';

export type { UserCpu, UserOp, UserResult, FaultUpcall, MessageUpcall };

/** A piece of user code returning T. */
export type U<T = void> = Generator<UserOp, T, UserResult>;

/** Burns `cycles` cycles of computation (preemptible by interrupts). */
export function* compute(cycles: number): U {
  yield { op: 'compute', cycles };
}

/** The syscall instruction (yielded with number and arguments already in registers; one shared object, as the core keeps nothing of it). */
export const SYSCALL: UserOp = { op: 'syscall' };

export function isMessageUpcall(r: UserResult): r is MessageUpcall {
  return typeof r === 'object' && r !== null && !(r instanceof Uint8Array) && r.upcall === 'message';
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

// Which thread's code is executing: set by the runtime around each resume of
// a thread's code (JS runs one generator step at a time, so one variable is
// exact across every process and node). An Env's wrappers set the registers
// of the thread it was made for; used from another thread they would set
// the wrong registers and trap on the right ones, so syscalls check first.
// (Loads and stores carry their address in the op itself and act on the
// running thread's address space, shared by the process: those are fine.)
let running: UserCpu | null = null;
const owners = new WeakMap<UserCpu, string>();

/** Names the thread `cpu` for the message of checkOwner. */
export function nameThread(cpu: UserCpu, who: string): void {
  owners.set(cpu, who);
}

/** Runs `code` as the thread `cpu`, so that ops of another thread's env are caught. */
export function* asThread<T>(cpu: UserCpu, code: U<T>): U<T> {
  let input: UserResult | undefined;
  for (;;) {
    running = cpu;
    let r: IteratorResult<UserOp, T>;
    try {
      r = code.next(input as UserResult);
    } finally {
      running = null;
    }
    if (r.done) return r.value;
    input = yield r.value;
  }
}

/** Throws when the code running now belongs to another thread than `cpu`. */
export function checkOwner(cpu: UserCpu): void {
  if (running === null || running === cpu) return;
  throw new Error(`${owners.get(cpu) ?? 'another thread'}'s env used on another thread: an env sets its own thread's registers; use the env the thread function receives (env.spawn(function* (t) { ... t.sys ... })), and in a fault handler the env it receives as its third argument`);
}
