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

/**
 * The value an interrupted computation resumes with when a message arrived
 * for an endpoint created with UNET_USER_UPCALL (issue 13, interrupt-driven
 * Active Messages): the runtime runs the process's message handler, then
 * computes the `remaining` cycles.
 */
export interface MessageUpcall {
  readonly upcall: 'message';
  readonly endpoint: number;
  readonly remaining: number;
}

export type UserResult = Uint8Array | FaultUpcall | MessageUpcall | undefined;

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
  /**
   * The bytes of the text segment as an executable image carries them. The
   * kernel finds a loaded image's code by the hash of these bytes, so a
   * program can be run from an image only if they are intact.
   */
  readonly text?: Uint8Array;
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
  /** A loaded process finds the job-load message it was created from here (read-only): its image, then the job block. */
  IMAGE_BASE: 0x1000_0000_0000,
  /** The kernel DSM's shared region (kernel/dsm/), at this address on every rank. */
  DSM_BASE: 0x2000_0000_0000,
  /** A remote task's further VM areas (kernel/rtask/template.ts), one page each, a page apart. */
  RTASK_AREAS_BASE: 0x3000_0000_0000,
} as const;

/**
 * The job block: what the service node appends to the init image (the seed's
 * "nid map and parameters at the end of the image") and the kernel places at
 * the bottom of BSS. Little-endian u32 words at these indices, then
 * `ranges` x RANGE_WORDS (first nid, count, image index), `images` x
 * IMAGE_WORDS (offset in the image store, length), then argv and envp as
 * NUL-terminated strings.
 */
export const JOB_BLOCK = {
  MAGIC: 0x424f4a4d,
  VERSION: 1,
  W_MAGIC: 0,
  W_VERSION: 1,
  W_TOTAL_BYTES: 2,
  W_JOB_ID: 3,
  W_PID: 4,
  W_SIZE: 5,
  W_FANOUT: 6,
  W_ARITY: 7,
  W_MODE: 8,
  W_SERVICE_NID: 9,
  W_SERVICE_PID: 10,
  W_INIT_LEN: 11,
  W_TIMEOUT_US: 12,
  W_START_US: 13,
  W_RANGES: 14,
  W_IMAGES: 15,
  W_ARGC: 16,
  W_ENVC: 17,
  W_STRING_BYTES: 18,
  W_STORE_BYTES: 19,
  HEADER_WORDS: 20,
  RANGE_WORDS: 3,
  IMAGE_WORDS: 2,
  /** Fan-out shapes (W_FANOUT) and load modes (W_MODE). */
  FANOUT_FLAT: 0,
  FANOUT_FLAT_CONCURRENT: 1,
  FANOUT_TREE: 2,
  FANOUT_BINOMIAL: 3,
  MODE_TWO_PHASE: 0,
  MODE_ONE_PHASE: 1,
  MODE_CRTC: 2,
  /** Largest job block the kernel accepts. */
  MAX_BYTES: 1 << 20,
} as const;

/**
 * Kernel-interpreted messages (kernel/job/jobmsg.ts). A process sends LOAD,
 * STATUS and KILL with lwk_kmsg_send; kernels answer with the replies and
 * fan exit status in with EXIT; lwk_kmsg_recv returns what arrives for the
 * process as KMSG_RECORD words.
 */
export const KMSG = {
  LOAD: 1,
  LOAD_ACK: 2,
  LOAD_NACK: 3,
  STATUS: 4,
  STATUS_REPLY: 5,
  KILL: 6,
  KILL_ACK: 7,
  EXIT: 8,
  /** A rank's process ended with a nonzero status: its kernel tells the job's launcher at once (kernel/job/failnotice.ts). */
  FAILED: 9,
  /** Record words lwk_kmsg_recv writes before the reason/payload bytes. */
  R_TYPE: 0,
  R_SRC_NID: 1,
  R_SRC_PID: 2,
  R_RANK: 3,
  R_JOB_ID: 4,
  R_CODE: 5,
  R_RANKS: 6,
  R_FAILED: 7,
  R_FIRST_FAILED_RANK: 8,
  R_FIRST_FAILED_STATUS: 9,
  R_BYTES: 10,
  RECORD_WORDS: 11,
  /** Phases a process reports with lwk_job_phase. */
  PHASE_MAIN: 1,
  PHASE_MAIN_DONE: 2,
} as const;

/**
 * Remote tasking (kernel/rtask/): the words of rtask_create's argument block
 * and the codes of its choices (the kernel's lists in kernel/rtask/shape.ts
 * are in this order; a test checks).
 */
export const RTASK = {
  W_IMAGE: 0,
  W_IMAGE_LEN: 1,
  W_BLOCK: 2,
  W_BLOCK_LEN: 3,
  W_VM_AREAS: 4,
  W_ALGORITHM: 5,
  W_CREATION: 6,
  W_PAGING: 7,
  W_NMS: 8,
  W_THREADS: 9,
  W_TIMEOUT_US: 10,
  W_REASON: 11,
  W_REASON_LEN: 12,
  ARG_WORDS: 13,
  ALGORITHM_NTC: 0,
  ALGORITHM_CRTC: 1,
  CREATION_FLAT: 0,
  CREATION_FLAT_MT: 1,
  CREATION_TREE: 2,
  PAGING_FLAT: 0,
  PAGING_TREE: 1,
} as const;

/** rip value at which the runtime starts a process's first thread. */
export const ENTRY_START = LAYOUT.TEXT_BASE;

/** auxv type under which the kernel passes the job block's address (a Margay extension). */
export const AT_MARGAY_JOB = 0x4d4a;
