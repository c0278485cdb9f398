// The per-core executor. Everything a core does is a sequence of events on
// it: a kernel step (from an interrupt path or the current thread's kernel
// path), a user operation of the current thread, a context switch, or a
// halt. Interrupts are taken at step boundaries when the core's context has
// them enabled: in user mode, when idle, and while a kernel path spins. A
// long user computation is cut short by an interrupt and resumes afterwards
// with its remaining cycles.

import type { Core } from '../hw/core.ts';
import type { EventSink } from '../hw/engine.ts';
import { NMI } from '../hw/apic.ts';
import { cyclesToPs } from '../hw/time.ts';
import type { UserOp } from './abi.ts';
import type { CoreContext, KernelContext } from './context.ts';
import { interruptPath, nmiPath } from './irq.ts';
import type { Thread } from './process.ts';
import type { KDirective, KPath } from './step.ts';
import { syscallPath } from './trap.ts';
import { userAccess } from './loadstore.ts';

const RESUME = 0;
/** Every user operation takes at least this many cycles, so user loops always advance time. */
const MIN_USER_CYCLES = 1;

type Advance = 'timed' | 'done' | 'blocked' | 'spin';

export class Cpu implements EventSink, CoreContext {
  current: Thread | null = null;
  readonly runQueue: Thread[] = [];
  needResched = false;
  halted = false;
  private irq: KPath<unknown> | null = null;
  private irqResume: unknown = undefined;
  private spinUntil: (() => boolean) | null = null;
  /** Whether the spin belongs to the interrupt path or to the thread's kernel path. */
  private spinOwner: 'irq' | 'thread' = 'thread';
  private event = -1;
  /** The user computation in progress: when it started and how many cycles it was to take. */
  private computing: { start: number; cycles: number } | null = null;
  /** Steps taken, for statistics. */
  steps = 0;
  interrupts = 0;

  constructor(
    readonly kernel: KernelContext,
    readonly core: Core,
    readonly index: number,
  ) {
    core.apic.onPending = () => this.onInterruptLine();
  }

  private get now(): number {
    return this.kernel.engine.now;
  }

  /** Pid shown in trace records for this core's current context. */
  get pid(): number {
    return this.current?.process.pid ?? 0;
  }

  /** Schedules the core to continue at now + ps (it is busy until then). */
  private resumeIn(ps: number): void {
    this.core.busyUntil = this.now + ps;
    this.event = this.kernel.engine.after(ps, this, RESUME);
  }

  /** Wakes a halted or spinning core so it re-examines its state now. */
  kick(): void {
    if (this.event !== -1 && this.kernel.engine.isPending(this.event)) return;
    if (this.halted || this.spinUntil !== null || this.computing === null) this.resumeIn(0);
  }

  /** The APIC raised the INTR line. */
  private onInterruptLine(): void {
    if (this.irq !== null || !this.interruptsOpen()) return;
    if (this.computing !== null) {
      this.preemptCompute();
      return;
    }
    if (this.halted || this.spinUntil !== null) this.kick();
  }

  private interruptsOpen(): boolean {
    const t = this.current;
    return t === null || t.kpath === null || this.spinUntil !== null;
  }

  /** Cuts the current user computation short; the rest runs after the interrupt. */
  private preemptCompute(): void {
    const c = this.computing!;
    const t = this.current!;
    this.kernel.engine.cancel(this.event);
    this.event = -1;
    const hz = this.kernel.profile.values['cpu.clockHz'];
    const done = Math.floor(((this.now - c.start) * hz) / 1e12);
    t.pendingCompute = Math.max(0, c.cycles - done);
    this.computing = null;
    this.resumeIn(0);
  }

  fire(): void {
    this.event = -1;
    this.computing = null;
    this.kernel.executing = this;
    this.loop();
    this.kernel.executing = null;
  }

  describe(): string {
    return `cpu ${this.kernel.nid}.${this.index}: continue${this.current ? ` (pid ${this.current.process.pid} tid ${this.current.tid})` : ''}`;
  }

  /** Does whatever comes next until something takes simulated time (or the core halts). */
  private loop(): void {
    for (;;) {
      if (this.current !== null && this.current.state === 'dead') this.dropCurrent();
      if (this.irq !== null) {
        if (this.spinUntil !== null && this.spinOwner === 'irq') {
          if (!this.spinUntil()) return;
          this.spinUntil = null;
        }
        const r = this.advance(this.irq, this.irqResume, null);
        this.irqResume = undefined;
        if (r !== 'done') return;
        this.irq = null;
        this.afterInterrupt();
        continue;
      }
      if (this.spinUntil !== null) {
        // A spinning kernel path keeps interrupts open, so cross-calls cannot deadlock.
        if (this.takeInterrupt()) continue;
        if (!this.spinUntil()) return;
        this.spinUntil = null;
      } else if (this.interruptsOpen() && this.takeInterrupt()) continue;
      const t = this.current;
      if (t === null) {
        this.schedule();
        return;
      }
      if (t.kpath !== null) {
        // Taken before the path runs: a wake that comes before the path blocks leaves its value for the block to return.
        const resume = t.kresume;
        t.kresume = undefined;
        const r = this.advance(t.kpath, resume, t);
        if (r === 'done') {
          t.kpath = null;
          // A wake keeps its value only for the path it was meant for: one that came after that path's last block
          // must not make the thread's next block, in some later call, return at once.
          t.wakePending = false;
          t.kresume = undefined;
          this.maybePreempt();
          continue;
        }
        if (r === 'blocked') {
          // A wake that came before the block means there is nothing to wait for.
          if (t.wakePending) t.wakePending = false;
          else this.switchOut(t);
          continue;
        }
        return;
      }
      this.userStep(t);
      return;
    }
  }

  /** Accepts the highest deliverable interrupt (or an NMI) and starts its path. */
  private takeInterrupt(): boolean {
    const apic = this.core.apic;
    if (apic.nmiPending) {
      apic.takeNmi();
      this.enterInterrupt(nmiPath(this.kernel, this), NMI);
      return true;
    }
    const v = apic.acknowledge();
    if (v < 0) return false;
    this.enterInterrupt(interruptPath(this.kernel, this, v), v);
    return true;
  }

  private enterInterrupt(path: KPath<unknown>, _vector: number): void {
    this.interrupts++;
    this.halted = false;
    this.irq = path;
    this.core.setMode('kernel', this.now);
    this.core.setInterruptsEnabled(false);
  }

  private afterInterrupt(): void {
    this.core.setInterruptsEnabled(true);
    if (this.current === null) this.core.setMode('idle', this.now);
    else this.core.setMode(this.current.kpath === null ? 'user' : 'kernel', this.now);
    this.maybePreempt();
  }

  /** At a return to user mode: switch away if the scheduler asked and someone waits. */
  private maybePreempt(): void {
    const t = this.current;
    if (!this.needResched || t === null || t.kpath !== null || t.state === 'dead') return;
    this.needResched = false;
    if (this.runQueue.length === 0) return;
    this.switchOut(t);
    t.state = 'runnable';
    this.runQueue.push(t);
  }

  /** Runs a kernel path until it takes time, blocks, spins or finishes. */
  private advance(path: KPath<unknown>, resume: unknown, thread: Thread | null): Advance {
    let r: IteratorResult<KDirective, unknown>;
    try {
      r = path.next(resume);
    } catch (e) {
      this.kernel.oops(this, thread, e);
      return 'done';
    }
    if (r.done) return 'done';
    // A switch rather than ts-pattern here: this runs once per kernel step and
    // the matcher's closures were 8% of a 2,048-node job load (measured then).
    const d = r.value;
    switch (d.kind) {
      case 'step':
        this.steps++;
        this.core.setMode('kernel', this.now);
      {
        const ps = cyclesToPs(d.cycles, this.kernel.profile.values['cpu.clockHz']);
        this.kernel.traceStep(this, d.path, d.step, d.detail, ps);
        this.resumeIn(ps);
        return 'timed';
      }
      case 'block':
        return 'blocked';
      case 'spin':
        this.kernel.traceStep(this, 'spin', d.what, '');
        this.spinUntil = d.until;
        this.spinOwner = thread === null ? 'irq' : 'thread';
        return 'spin';
      default:
        return unreachable(d);
    }
  }

  /** One user operation of the current thread. */
  private userStep(t: Thread): void {
    const hz = this.kernel.profile.values['cpu.clockHz'];
    this.core.setMode('user', this.now);
    this.core.setInterruptsEnabled(true);
    if (t.pendingCompute > 0) {
      const cycles = t.pendingCompute;
      t.pendingCompute = 0;
      this.startCompute(cycles, hz);
      return;
    }
    let r: IteratorResult<UserOp, void>;
    const watch = this.kernel.host.userCodeWatch;
    try {
      watch?.(t, this.kernel.nid);
      r = t.user!.next(t.userResume);
      watch?.(null, -1);
    } catch (e) {
      watch?.(null, -1);
      this.kernel.killProcess(t.process, 134, `user program threw: ${(e as Error)?.message ?? String(e)}`);
      this.resumeIn(0);
      return;
    }
    t.userResume = undefined;
    if (r.done) {
      this.kernel.killProcess(t.process, 134, `thread ${t.tid} ran off the end of its code without exit`);
      this.resumeIn(0);
      return;
    }
    const op = r.value as UserOp | null | undefined;
    t.userOps++;
    this.core.advanceRip(4);
    if (!isUserOp(op)) {
      const rip = BigInt.asUintN(64, this.core.get('rip') - 4n);
      this.kernel.killProcess(t.process, 132, `invalid operation at rip 0x${rip.toString(16)}: ${safeShow(op)}`);
      this.resumeIn(0);
      return;
    }
    // A switch for the same reason as in advance(): once per user operation.
    switch (op.op) {
      case 'compute': {
        const cycles = Number.isFinite(op.cycles) && op.cycles > 0 ? Math.ceil(op.cycles) : MIN_USER_CYCLES;
        this.startCompute(cycles, hz);
        return;
      }
      case 'syscall':
        t.syscalls++;
        t.kpath = syscallPath(this.kernel, this, t);
        this.resumeIn(0);
        return;
      case 'load':
      case 'store': {
        const result = userAccess(this.kernel, this, t, op);
        if (result.fault !== null) {
          t.kpath = result.fault;
          this.resumeIn(0);
          return;
        }
        t.userResume = result.value;
        this.resumeIn(cyclesToPs(Math.max(MIN_USER_CYCLES, result.cycles), hz));
        return;
      }
      default:
        unreachable(op);
    }
  }

  private startCompute(cycles: number, hz: number): void {
    this.computing = { start: this.now, cycles };
    this.core.busyUntil = this.now + cyclesToPs(cycles, hz);
    this.event = this.kernel.engine.at(this.core.busyUntil, this, RESUME);
  }

  /** Picks the next runnable thread, or halts until an interrupt. */
  private schedule(): void {
    const next = this.runQueue.shift();
    if (next === undefined) {
      this.halted = true;
      this.core.setMode('idle', this.now);
      this.core.setInterruptsEnabled(true);
      return;
    }
    this.switchIn(next);
  }

  /** Loads a thread's context onto this core (a traced scheduler step). */
  private switchIn(t: Thread): void {
    const aspace = t.process.aspace;
    this.current = t;
    t.state = 'running';
    this.core.regs.set(t.regs);
    t.loadedOn = this.core;
    this.core.asid = aspace.asid;
    this.core.set('cr3', aspace.cr3);
    aspace.cpuMask.add(this.index);
    this.core.setMode('kernel', this.now);
    this.kernel.traceStep(this, 'sched', 'switch', `to pid ${t.process.pid} tid ${t.tid}`);
    this.kernel.armQuantum(this);
    this.resumeIn(cyclesToPs(this.kernel.profile.values['kernel.contextSwitchCycles'], this.kernel.profile.values['cpu.clockHz']));
  }

  /** Saves the current thread's context and leaves the core without a thread. */
  switchOut(t: Thread): void {
    if (this.current !== t) return;
    t.regs.set(this.core.regs);
    t.loadedOn = null;
    this.current = null;
    if (t.state === 'running') t.state = 'blocked';
  }

  private dropCurrent(): void {
    const t = this.current!;
    t.loadedOn = null;
    this.current = null;
    if (this.spinOwner === 'thread') this.spinUntil = null;
  }

  /**
   * A thread of this core became runnable: queue it. A halted core is
   * started by the caller (a reschedule IPI from another core, or a kick).
   */
  enqueue(t: Thread): void {
    t.state = 'runnable';
    if (t.urgent) {
      this.runQueue.unshift(t);
      this.needResched = true;
    } else this.runQueue.push(t);
    if (this.current !== null) this.kernel.armQuantum(this);
  }

  /** Removes a thread from the run queue (it was killed). */
  dequeue(t: Thread): void {
    const i = this.runQueue.indexOf(t);
    if (i >= 0) this.runQueue.splice(i, 1);
  }

  /**
   * Stops whatever the core is doing for a thread that was just killed. The
   * core executing right now notices on its own; an interrupt path in
   * progress finishes first.
   */
  evict(t: Thread): void {
    this.dequeue(t);
    if (this.current !== t || this.kernel.executing === this || this.irq !== null) return;
    if (this.event !== -1) this.kernel.engine.cancel(this.event);
    this.event = -1;
    this.computing = null;
    this.spinUntil = null;
    this.resumeIn(0);
  }

  get spinning(): boolean {
    return this.spinUntil !== null;
  }

  get inInterrupt(): boolean {
    return this.irq !== null;
  }
}

function safeShow(x: unknown): string {
  try {
    return JSON.stringify(x)?.slice(0, 80) ?? String(x);
  } catch {
    return String(x);
  }
}

/** Compile-time exhaustiveness for the switches above (a new case fails to type-check). */
function unreachable(x: never): never {
  throw new Error(`unhandled case ${JSON.stringify(x)}`);
}

/** A user operation the core knows (a switch: this runs once per user operation, and an array literal each time was garbage). */
function isUserOp(op: unknown): op is UserOp {
  if (op === null || typeof op !== 'object') return false;
  switch ((op as { op?: unknown }).op) {
    case 'compute':
    case 'syscall':
    case 'load':
    case 'store':
      return true;
    default:
      return false;
  }
}
