// Per-core kernel timers on the local APIC's one-shot timer: sleep and futex
// deadlines and the round-robin quantum. The earliest deadline is always the
// one programmed; the timer interrupt expires what is due and re-arms.

import { MAX_TIME_PS, transferPs } from '../hw/time.ts';
import type { Core } from '../hw/core.ts';
import type { Engine } from '../hw/engine.ts';
import type { Profile } from '../hw/profile.ts';
import { type KPath, step } from './step.ts';
import { VECTOR } from './vectors.ts';

/** The core a timer belongs to (cpu.ts's Cpu). */
export interface TimerCore {
  readonly core: Core;
  readonly index: number;
}

export interface Deadline {
  readonly at: number;
  readonly kind: 'sleep' | 'futex-timeout' | 'quantum' | 'dsm-probe';
  /** The thread the deadline belongs to (compared by identity only: removeThread drops a killed thread's). */
  readonly thread: object | null;
  /** Called at expiry (inside the timer interrupt path), on the core whose timer fired. */
  readonly expire: (cpu: TimerCore) => KPath;
}

export class CpuTimers {
  private deadlines: Deadline[] = [];

  constructor(
    private readonly k: { readonly engine: Engine; readonly profile: Profile },
    private readonly cpu: TimerCore,
  ) {}

  add(d: Deadline): Deadline {
    let i = 0;
    while (i < this.deadlines.length && this.deadlines[i].at <= d.at) i++;
    this.deadlines.splice(i, 0, d);
    if (i === 0) this.program();
    return d;
  }

  remove(d: Deadline): void {
    const i = this.deadlines.indexOf(d);
    if (i < 0) return;
    this.deadlines.splice(i, 1);
    if (i === 0) this.program();
  }

  /** Drops every deadline of a thread (it was killed). */
  removeThread(t: object): void {
    const before = this.deadlines.length;
    const head = this.deadlines[0];
    this.deadlines = this.deadlines.filter((d) => d.thread !== t);
    if (this.deadlines.length !== before && this.deadlines[0] !== head) this.program();
  }

  hasQuantum(): boolean {
    return this.deadlines.some((d) => d.kind === 'quantum');
  }

  get pending(): readonly Deadline[] {
    return this.deadlines;
  }

  /** Programs the APIC one-shot timer for the earliest deadline (or stops it). */
  private program(): void {
    const apic = this.cpu.core.apic;
    const first = this.deadlines[0];
    if (first === undefined) {
      apic.stopTimer();
      return;
    }
    const hz = this.k.profile.values['apic.timerHz'];
    // A deadline past the end of time is programmed just past the end: it never fires.
    const delta = Math.max(0, Math.min(first.at, MAX_TIME_PS + 1) - this.k.engine.now);
    // Ticks rounded up so the interrupt never comes before the deadline.
    let ticks = Math.max(1, Math.ceil((delta * hz) / 1e12));
    while (transferPs(ticks, hz) < delta) ticks++;
    apic.setTimer('oneshot', VECTOR['apic-timer'], ticks);
  }

  /** The APIC timer's interrupt handler. */
  *onInterrupt(): KPath {
    const now = this.k.engine.now;
    const due: Deadline[] = [];
    while (this.deadlines.length > 0 && this.deadlines[0].at <= now) due.push(this.deadlines.shift()!);
    yield step('timer', 'expire', 20 + 20 * due.length, `${due.length} deadline(s)`);
    for (const d of due) yield* d.expire(this.cpu);
    this.program();
  }
}
