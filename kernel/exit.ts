// Exit: ending a thread (the process ends with its last thread), killing a
// whole process, and the zombies: ended processes whose memory waits until
// no DMA (a Portals transfer, a job-control message) can touch it.

import type { CoreContext, KernelContext } from './context.ts';
import type { AsidPool } from './asid.ts';
import type { Cpu } from './cpu.ts';
import type { FutexTable } from './futex.ts';
import { giveBack } from './holds.ts';
import type { Process, Thread } from './process.ts';
import { teardown } from './spawn.ts';
import type { CpuTimers } from './timer.ts';

/** What ending a process needs of each subsystem made on first use. */
export interface ExitSubsystems {
  /** Portals: drops the process's objects; its transfers may still be reading or writing its memory. */
  readonly portals: { forget(p: Process): void; inflight(p: Process): number };
  /** Job control: the exit fan-in; its messages may still be reading the process's memory. */
  readonly jobs: { processEnded(p: Process): void; inflight(pid: number): number };
  /** The kernel DSM: the process's rank detaches (its frames stay for the other ranks). */
  readonly dsm: { forget(p: Process): void };
  /** Remote tasking: a created task's VM objects are torn down once no child pages from them. */
  readonly rtask: { processEnded(p: Process): void };
  /** Ports: the process's rights go (its ports die; its send rights are counted out). */
  readonly ports: { forget(p: Process): void };
}

/** What ending threads and processes needs of the kernel. */
export interface ExitContext extends Pick<KernelContext, 'engine' | 'traceStep'> {
  readonly cpus: readonly Cpu[];
  executing: CoreContext | null;
  readonly futex: FutexTable;
  readonly asids: AsidPool;
  readonly zombies: Zombies;
  /** U-Net: the NIC forgets the process's endpoints, then their segments are unpinned. */
  readonly unet: { forget(p: Process): void };
  /** The subsystems made so far (Kernel.existing): one never made holds nothing of any process. */
  existing<N extends keyof ExitSubsystems>(name: N): ExitSubsystems[N] | undefined;
  timer(core: number): CpuTimers;
  /** Tells the machine around the kernel (KernelHost.processExited). */
  announceExit(p: Process): void;
}

/** Ended processes whose memory waits for in-flight DMA. */
export class Zombies {
  private list: Process[] = [];

  add(p: Process): void {
    this.list.push(p);
  }

  /** Frees the memory of every zombie no DMA can touch any more. */
  reap(k: Pick<ExitContext, 'asids' | 'existing'>): void {
    if (this.list.length === 0) return;
    const portals = k.existing('portals');
    const jobs = k.existing('jobs');
    this.list = this.list.filter((p) => {
      if ((portals !== undefined && portals.inflight(p) > 0) || (jobs !== undefined && jobs.inflight(p.pid) > 0)) return true;
      teardown(k, p.aspace);
      return false;
    });
  }
}

/** Ends a thread; the process ends with its last thread. */
export function exitThread(k: ExitContext, t: Thread, status: number): void {
  if (t.state === 'dead') return;
  buryThread(k, t);
  giveBack([t], k.cpus[0]);
  if (t.process.liveThreads.length === 0) endProcess(k, t.process, status, null);
}

/** Ends every thread of a process (exit_group, a fatal fault, a kill). */
export function killProcess(k: ExitContext, p: Process, status: number, reason: string | null): void {
  if (!p.alive) return;
  const threads = [...p.liveThreads];
  for (const t of threads) buryThread(k, t);
  // What their kernel paths held across a block goes back before the process's rights and ports go (endProcess).
  giveBack(threads, k.cpus[0]);
  endProcess(k, p, status, reason);
}

function buryThread(k: ExitContext, t: Thread): void {
  t.state = 'dead';
  t.kpath = null;
  t.user = null;
  if (t.timerDeadline) k.timer(t.home).remove(t.timerDeadline);
  t.timerDeadline = null;
  k.timer(t.home).removeThread(t);
  for (const cpu of k.cpus) cpu.evict(t);
}

function endProcess(k: ExitContext, p: Process, status: number, reason: string | null): void {
  if (!p.alive) return;
  p.exitStatus = status;
  p.exitReason = reason;
  p.endedAt = k.engine.now;
  k.futex.forget(p.aspace);
  k.existing('portals')?.forget(p);
  k.unet.forget(p);
  k.existing('dsm')?.forget(p);
  k.existing('ports')?.forget(p);
  k.zombies.add(p);
  k.zombies.reap(k);
  k.existing('jobs')?.processEnded(p);
  k.existing('rtask')?.processEnded(p);
  k.traceStep(k.executing ?? k.cpus[0], 'proc', 'exit', `pid ${p.pid} status ${status}${reason ? `: ${reason}` : ''}`);
  k.announceExit(p);
}
