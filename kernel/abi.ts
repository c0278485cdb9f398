// The user/kernel boundary as seen from user mode: what a user program can
// do on its core (read and write its registers, compute, trap, access memory
// through the TLB). User programs import these types only; the syscall
// numbers they put in rax come from the generated userland/lib/abi.gen.ts.

import type { Register } from '../hw/core.ts';

export type { Register };

/**
 * One thing user code asks its core to do. The core performs it and resumes
 * the program with the result: nothing for compute and syscall (the result is
 * in rax), the bytes read for load, nothing for store.
 */
export type UserOp =
  | { readonly op: 'compute'; readonly cycles: number }
  | { readonly op: 'syscall' }
  | { readonly op: 'load'; readonly va: number; readonly len: number }
  | { readonly op: 'store'; readonly va: number; readonly bytes: Uint8Array };

/** What a user program sees of the core it runs on: its registers. */
export interface UserCpu {
  get(r: Register): bigint;
  set(r: Register, v: bigint | number): void;
}

/**
 * The value a faulting load or store resumes with when the process has a
 * user-level fault handler: the runtime calls the handler, then retries.
 */
export interface FaultUpcall {
  readonly upcall: 'fault';
  readonly address: number;
  readonly write: boolean;
}

export type UserResult = Uint8Array | FaultUpcall | undefined;

/**
 * A process's code. The kernel "jumps" to it by calling it once per thread
 * with the thread's registers set (rip names the entry point, rdi/rsi the
 * arguments); it yields operations until it returns (which, like falling off
 * the end of _start, is a fault unless the program exited by syscall).
 */
export type UserCode = (cpu: UserCpu) => Generator<UserOp, void, UserResult>;

/** A loadable program: each process gets fresh code (its own JS-side state). */
export interface UserProgram {
  readonly name: string;
  /** Sizes of the initial regions in bytes (rounded up to pages by the loader). */
  readonly textBytes: number;
  readonly dataBytes: number;
  readonly bssBytes: number;
  /** Initial contents of the data region, if any. */
  readonly data?: Uint8Array;
  instantiate(): UserCode;
}

/** Virtual-memory layout of every process (LWK style, fixed). */
export const LAYOUT = {
  TEXT_BASE: 0x40_0000,
  /** Heap grows up from the end of bss; reserved up front, as Kitten does (less on small nodes). */
  HEAP_RESERVE: 64 * 1024 * 1024,
  /** mmap allocations go down from here. */
  MMAP_TOP: 0x7f00_0000_0000,
  /** 2 MiB aligned, so the stack is one 2 MiB page. */
  STACK_TOP: 0x7fff_ffe0_0000,
  STACK_BYTES: 2 * 1024 * 1024,
  /** Stacks of further threads, each STACK_BYTES below the previous. */
  THREAD_STACKS_TOP: 0x7ffe_0000_0000,
} as const;

/** rip value at which the runtime starts a process's first thread. */
export const ENTRY_START = LAYOUT.TEXT_BASE;
