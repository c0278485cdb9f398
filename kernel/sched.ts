// The scheduler's node-wide half: waking a blocked thread onto its home
// core (with a reschedule IPI when that core is halted), starting threads,
// sleeping on a core's timer, the round-robin quantum and the placement of
// new threads. The per-core half (run queue, switch in and out, preemption
// at the return to user mode) is the executor in cpu.ts.

import type { KernelContext } from './context.ts';
import type { Cpu } from './cpu.ts';
import type { Process, Thread } from './process.ts';
import { type KPath, step } from './step.ts';
import type { CpuTimers, Deadline } from './timer.ts';
import { VECTOR } from './vectors.ts';

/** What the scheduler needs of the kernel: its cores, their timers and the live processes. */
export interface SchedContext extends Pick<KernelContext, 'engine' | 'profile' | 'stats'> {
  readonly cpus: readonly Cpu[];
  readonly processes: ReadonlyMap<number, Process>;
  timer(core: number): CpuTimers;
}

/** The core with the fewest live threads homed on it (lowest index on ties). */
export function leastLoadedCore(k: SchedContext): number {
  const load = k.cpus.map(() => 0);
  for (const p of k.processes.values()) for (const t of p.liveThreads) load[t.home]++;
  let best = 0;
  for (let i = 1; i < load.length; i++) if (load[i] < load[best]) best = i;
  return best;
}

/**
 * Makes a blocked thread runnable with `value` as the result of its block.
 * A thread homed on another, halted core is started with a reschedule IPI.
 */
export function* wake(k: SchedContext, t: Thread, value: unknown, from: Cpu): KPath {
  if (t.state === 'dead') return;
  if (t.timerDeadline) {
    k.timer(t.home).remove(t.timerDeadline);
    t.timerDeadline = null;
  }
  if (t.state !== 'blocked') {
    // A thread in user mode waits for nothing: the wake is for no path (cpu.ts drops one left at a path's end too).
    if (t.kpath === null) return;
    t.kresume = value;
    t.wakePending = true;
    return;
  }
  t.kresume = value;
  const target = k.cpus[t.home];
  target.enqueue(t);
  if (target !== from && target.halted) {
    yield step('ipi', 'send', k.profile.values['kernel.ipiSendCycles'], `reschedule -> core ${target.index}`);
    from.core.apic.sendIpi(target.index, VECTOR.reschedule);
    k.stats.ipisSent++;
  }
}

/** Starts a new thread: queued on its home core, which gets an IPI if it is halted. */
export function* startThread(k: SchedContext, t: Thread, from: Cpu): KPath {
  t.state = 'blocked';
  yield* wake(k, t, undefined, from);
}

/** Puts a thread to sleep on its home core's timer until `at`. */
export function sleepUntil(k: SchedContext, t: Thread, at: number, kind: Deadline['kind'], expire: Deadline['expire']): void {
  t.timerDeadline = k.timer(t.home).add({ at, kind, thread: t, expire });
}

/** Arms the round-robin quantum on a core that has more than one runnable thread. */
export function armQuantum(k: SchedContext, cpu: Cpu): void {
  const timers = k.timer(cpu.index);
  if (cpu.runQueue.length === 0 || timers.hasQuantum()) return;
  timers.add({
    at: k.engine.now + k.profile.values['kernel.quantumPs'],
    kind: 'quantum',
    thread: null,
    *expire() {
      cpu.needResched = true;
      yield step('sched', 'quantum', 10, `${cpu.runQueue.length} waiting`);
    },
  });
}
