// Processes (an address space and its threads, as in Kitten) and threads
// (tasks): saved registers, the user code generator and, while the thread is
// in the kernel, the kernel path it is running (its kernel stack).

import { REGISTERS, type Register } from '../hw/core.ts';
import type { UserCode, UserCpu, UserOp, UserResult } from './abi.ts';
import type { AddressSpace } from './aspace.ts';
import type { KPath } from './step.ts';
import type { Deadline } from './timer.ts';

export type ThreadState = 'runnable' | 'running' | 'blocked' | 'dead';

const REG_INDEX = new Map<Register, number>(REGISTERS.map((r, i) => [r, i]));

export class Thread {
  state: ThreadState = 'runnable';
  readonly regs = new BigUint64Array(REGISTERS.length);
  user: Generator<UserOp, void, UserResult> | null = null;
  /** Value the next user operation resumes with. */
  userResume: UserResult = undefined;
  /** Remaining cycles of a user computation an interrupt cut short. */
  pendingCompute = 0;
  /** The kernel path this thread is in (syscall, fault), or null in user mode. */
  kpath: KPath<unknown> | null = null;
  kresume: unknown = undefined;
  /** Woken before it got round to blocking: the block returns at once. */
  wakePending = false;
  /** Woken urgently: goes to the front of its core's queue and preempts at the next return to user mode. */
  urgent = false;
  /** A sleep or futex timeout armed for this thread. */
  timerDeadline: Deadline | null = null;
  /** CLONE_CHILD_CLEARTID address: zeroed and futex-woken at exit. */
  clearChildTid = 0;
  /** The core whose registers hold this thread's context, while running. */
  loadedOn: { get(r: Register): bigint; set(r: Register, v: bigint | number): void } | null = null;
  userOps = 0;
  syscalls = 0;
  readonly cpu: UserCpu;

  constructor(
    readonly tid: number,
    readonly process: Process,
    /** The core this thread runs on (threads do not migrate). */
    readonly home: number,
  ) {
    const self = this;
    this.cpu = {
      get(r) {
        return self.loadedOn ? self.loadedOn.get(r) : self.regs[REG_INDEX.get(r)!];
      },
      set(r, v) {
        if (self.loadedOn) self.loadedOn.set(r, v);
        else self.regs[REG_INDEX.get(r)!] = BigInt.asUintN(64, BigInt(v));
      },
    };
  }

  getSaved(r: Register): bigint {
    return this.regs[REG_INDEX.get(r)!];
  }

  setSaved(r: Register, v: bigint | number): void {
    this.regs[REG_INDEX.get(r)!] = BigInt.asUintN(64, BigInt(v));
  }
}

/** The node and pid of each rank: an array, or a compact map from a job block. */
export interface JobMapView {
  readonly length: number;
  at(rank: number): { nid: number; pid: number } | undefined;
}

export interface ProcessInfo {
  readonly rank: number;
  readonly jobSize: number;
  /** Where every rank of the job runs (filled in by the launcher once all are placed). */
  readonly jobMap?: JobMapView;
  readonly uid: number;
  readonly argv: readonly string[];
  readonly envp: readonly string[];
  /**
   * The host started this process as a job launcher (yod on the service
   * partition): only a launcher places a job on nodes (a job load from the
   * launcher, rtask_create). docs/SECURITY.md.
   */
  readonly launcher?: boolean;
}

export class Process {
  readonly threads: Thread[] = [];
  exitStatus: number | null = null;
  exitReason: string | null = null;
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly results = new Map<string, number>();
  faultHandler = 0;
  endedAt = -1;
  readonly code: UserCode;

  constructor(
    readonly pid: number,
    readonly name: string,
    readonly aspace: AddressSpace,
    readonly info: ProcessInfo,
    code: UserCode,
    readonly startedAt: number,
  ) {
    this.code = code;
  }

  get alive(): boolean {
    return this.exitStatus === null;
  }

  get liveThreads(): Thread[] {
    return this.threads.filter((t) => t.state !== 'dead');
  }
}
