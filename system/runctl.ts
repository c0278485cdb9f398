// Run control: fire one event, run to the next trace record, or run until a
// breakpoint hits, a time is reached, a condition holds, a number of events
// have fired or nothing is left. A breakpoint match is noted as records
// arrive (see record) and ends the run after the event that produced it.

import type { Engine } from '../hw/engine.ts';
import { MAX_TIME_PS } from '../hw/time.ts';
import type { TraceRecord } from '../kernel/trace.ts';
import type { Breakpoint, Watchpoint } from './breakpoints.ts';
import type { Breakpoints } from './breakpoints.ts';
import type { Trace } from './trace.ts';

export type StopReason =
  | { readonly kind: 'breakpoint'; readonly breakpoint: Breakpoint | Watchpoint; readonly record: TraceRecord }
  | { readonly kind: 'time'; readonly time: number }
  | { readonly kind: 'idle' }
  /** Nothing is left to happen before the last representable picosecond; `next` is when something would. */
  | { readonly kind: 'end-of-time'; readonly time: number; readonly next: number }
  | { readonly kind: 'done' }
  | { readonly kind: 'events'; readonly events: number };

export class RunControl {
  private hit: StopReason | null = null;
  private lastRecord: TraceRecord | null = null;
  /** Users of `next()` and the monitors that need every record. */
  recordWatchers = 0;

  constructor(
    private readonly engine: Engine,
    private readonly trace: Trace,
    private readonly breakpoints: Breakpoints,
  ) {}

  /** A kernel step's record: keep it, and note the first breakpoint it hits. */
  record(r: TraceRecord): void {
    this.trace.record(r);
    this.lastRecord = r;
    if (!this.breakpoints.empty && this.hit === null) {
      const b = this.breakpoints.match(r);
      if (b) this.hit = { kind: 'breakpoint', breakpoint: b, record: r };
    }
  }

  /** Fires one event. */
  step(): boolean {
    return this.engine.step();
  }

  /** Runs until the next trace record; returns it (null when nothing is left). */
  next(): TraceRecord | null {
    const before = this.trace.count;
    this.recordWatchers++;
    try {
      while (this.trace.count === before) if (!this.engine.step()) return null;
    } finally {
      this.recordWatchers--;
    }
    return this.lastRecord;
  }

  /**
   * Runs until a breakpoint hits, `until` (a time) is reached, `done()` holds,
   * `maxEvents` have fired, or nothing is pending.
   */
  run(opts: { until?: number; maxEvents?: number; done?: () => boolean } = {}): StopReason {
    this.hit = null;
    const until = opts.until ?? Infinity;
    const max = opts.maxEvents ?? Infinity;
    const done = opts.done;
    let n = 0;
    const engine = this.engine;
    for (;;) {
      if (done !== undefined && done()) return { kind: 'done' };
      if (n >= max) return { kind: 'events', events: n };
      const t = engine.nextTime();
      if (t === Infinity) {
        if (engine.pendingPastEnd > 0) return { kind: 'end-of-time', time: MAX_TIME_PS, next: engine.pastEndTime() };
        return { kind: 'idle' };
      }
      if (t > until) {
        engine.runUntil(until);
        return { kind: 'time', time: until };
      }
      engine.step();
      n++;
      if (this.hit !== null) {
        const h = this.hit;
        this.hit = null;
        return h;
      }
    }
  }
}
