// The narrow kernel context: what the kernel paths (trap, irq, xcall,
// tlbflush, timer, fault, copyin/copyout, user loads and stores) and the
// per-core executor see of their node's kernel. The Kernel class is the one
// implementation; the paths import this file instead of kernel.ts, so the
// composition root is not in their import graph.

import type { Core } from '../hw/core.ts';
import type { Engine } from '../hw/engine.ts';
import type { Node } from '../hw/node.ts';
import type { Profile } from '../hw/profile.ts';
import type { UserOp } from './abi.ts';
import type { PersonalityName } from './ipc/personality.ts';
import type { Process, Thread } from './process.ts';
import type { KPath, TracePath } from './step.ts';

export interface KernelOptions {
  /** Send TLB shootdown IPIs (false: --no-shootdown). */
  readonly shootdown: boolean;
  /** The distributed-IPC transport's personality (kernel/ipc/personality.ts); DIPC when not given. */
  readonly transport?: PersonalityName;
}

export interface KernelStats {
  syscalls: number;
  pageFaults: number;
  shootdowns: number;
  shootdownPs: number;
  /** Cross-call IPIs sent for shootdowns (a subset of ipisSent). */
  shootdownIpis: number;
  ipisSent: number;
  oopses: number;
}

/** What a kernel path needs of the core it runs on (cpu.ts's Cpu is the implementation). */
export interface CoreContext {
  readonly core: Core;
  readonly index: number;
  /** Pid shown in trace records for this core's current context. */
  readonly pid: number;
  /** Wakes a halted or spinning core so it re-examines its state now. */
  kick(): void;
}

/** A syscall as dispatched by the trap, arguments checked; shared by every kernel, so it is told which one runs it. */
export interface SyscallEntry {
  readonly name: string;
  run(k: KernelContext, cpu: CoreContext, t: Thread, args: readonly bigint[]): KPath<number | bigint>;
}

export interface KernelContext {
  readonly node: Node;
  readonly nid: number;
  readonly engine: Engine;
  readonly profile: Profile;
  readonly stats: KernelStats;
  readonly options: KernelOptions;
  /** The host's watchdog for user code (see KernelHost.userCodeWatch). */
  readonly host: { readonly userCodeWatch?: ((t: Thread | null, nid: number) => void) | null };
  /** The core whose event is being handled right now, if any. */
  executing: CoreContext | null;
  traceStep(cpu: CoreContext, path: TracePath, stepName: string, detail: string, durPs?: number): void;
  /** Whether trace records are kept or matched: when not, a hot path may skip building its steps' detail text. */
  readonly recording: boolean;
  /** A host exception inside a kernel path: logged, the process dies, the machine goes on. */
  oops(cpu: CoreContext, thread: { process: Process } | null, e: unknown): void;
  killProcess(p: Process, status: number, reason: string | null): void;
  /** Arms the round-robin quantum on a core that has more than one runnable thread. */
  armQuantum(cpu: CoreContext): void;
  syscallEntry(nr: number): SyscallEntry | undefined;
  /** A fault in memory a kernel subsystem serves (the kernel DSM's region): its path, or null for the ordinary fault path. */
  regionFault(cpu: CoreContext, t: Thread, op: Extract<UserOp, { op: 'load' | 'store' }>, va: number, write: boolean): KPath | null;
  /**
   * A not-present page of memory a kernel subsystem fills lazily (a remote
   * task's copy-on-reference pages) that the kernel itself touches for the
   * thread running on `cpu` (a syscall's user-copy): the path that brings it
   * in, blocking the thread (null when mapped, else why not), or null when
   * `va` is no such page.
   */
  regionPageIn(cpu: CoreContext, p: Process, va: number, write: boolean): KPath<string | null> | null;
  /** The path of the handler attached to `vector` on this core, or undefined if none is. */
  irqPath(vector: number, cpu: CoreContext): KPath | undefined;
  nmiHandler(cpu: CoreContext): KPath;
}
