// The deterministic discrete-event engine: one per machine. Pending events
// are ordered by (time, insertion sequence) in a ladder queue (ladder.ts).
// An event lives in a reusable slot whose record holds its time, sequence,
// kind, argument, generation and sink number together; sinks are numbered
// on first use and payloads kept aside only for events that have one, so
// firing an event touches one record and nothing is allocated per event.
//
// Time ends at MAX_TIME_PS (2^53-1 ps, about 2.5 simulated hours): past it
// picoseconds are no longer exact integers. An event due past the end is
// not an error of whoever scheduled it (a long computation, a timeout of
// hours) and it never fires: the engine keeps it aside, cancellable like any
// other, so that a run with nothing left before the end can say it stopped
// at the end of time rather than for want of work.

import { SimTimeError } from './errors.ts';
import { LadderQueue, REC_SEQ, REC_STRIDE, REC_TIME } from './ladder.ts';
import { MAX_TIME_PS, checkTime } from './time.ts';

/** A component that receives events. `describe` lets the monitor show a pending event. */
export interface EventSink {
  fire(kind: number, arg: number, payload: unknown): void;
  describe(kind: number, arg: number, payload: unknown): string;
}

/** Opaque handle of a scheduled event; pass it to `cancel`. */
export type EventId = number;

/** What `peek` shows of the next event. */
export interface EventView {
  readonly id: EventId;
  readonly time: number;
  readonly seq: number;
  readonly sink: EventSink;
  readonly kind: number;
  readonly arg: number;
  readonly payload: unknown;
}

// An id is gen * 2^24 + slot; gen wraps at 2^29 so ids stay safe integers.
const SLOT_LIMIT = 2 ** 24;
const GEN_MASK = 2 ** 29 - 1;
// The engine's fields in a slot's record (after the queue's time and seq).
const KIND = 2;
const ARG = 3;
const GEN = 4;
/** Sink number, or -1 for a free or cancelled slot. */
const SINK = 5;
const HAS_PAYLOAD = 6;

export class Engine {
  /** Current simulated time in picoseconds. */
  now = 0;
  /** Events fired since the engine was made. */
  fired = 0;
  /** Called before every event fires (hashing, tracing); never changes results. */
  observer: ((time: number, sink: EventSink, kind: number, arg: number) => void) | null = null;

  private readonly sinks: EventSink[] = [];
  private readonly sinkNumbers = new Map<EventSink, number>();
  // Consecutive events usually go to the same sink; skip the map lookup then.
  private lastSink: EventSink | null = null;
  private lastSinkNo = -1;
  /** Payloads of pending events that have one, by slot. */
  private readonly payloads = new Map<number, unknown>();
  private readonly queue = new LadderQueue();
  private freeSlots = new Int32Array(1024);
  private freeCount = 0;
  private slotCount = 0;
  private capacity = 1024;
  private nextSeq = 0;
  private live = 0;
  /** Events due past the end of time, by their (negative) ids, with their times. */
  private readonly pastEnd = new Map<EventId, number>();
  private nextPastEndId = -2;

  /** Events scheduled and not yet fired or cancelled. */
  get pending(): number {
    return this.live;
  }

  /** Schedules an event `delay` picoseconds from now. */
  after(delay: number, sink: EventSink, kind: number, arg = 0, payload?: unknown): EventId {
    return this.at(this.now + delay, sink, kind, arg, payload);
  }

  /** Events due past the end of time (they never fire); see pastEndTime. */
  get pendingPastEnd(): number {
    return this.pastEnd.size;
  }

  /** The earliest time of an event due past the end of time, or Infinity. */
  pastEndTime(): number {
    let t = Infinity;
    for (const v of this.pastEnd.values()) if (v < t) t = v;
    return t;
  }

  /** Schedules an event at absolute time `time` (not before now; past MAX_TIME_PS it never fires). */
  at(time: number, sink: EventSink, kind: number, arg = 0, payload?: unknown): EventId {
    if (!(time >= this.now && time <= MAX_TIME_PS && Number.isInteger(time))) {
      if (time > MAX_TIME_PS) {
        // Ids of past-end events are negative and never reused (-1 is "no event" to callers).
        const id = this.nextPastEndId--;
        this.pastEnd.set(id, time);
        return id;
      }
      checkTime(time, 'schedule');
      throw new SimTimeError(`schedule: time ${time} ps is before now (${this.now} ps)`);
    }
    const slot = this.freeCount > 0 ? this.freeSlots[--this.freeCount] : this.newSlot();
    let sinkNo: number;
    if (sink === this.lastSink) sinkNo = this.lastSinkNo;
    else {
      sinkNo = this.sinkNumbers.get(sink) ?? this.addSink(sink);
      this.lastSink = sink;
      this.lastSinkNo = sinkNo;
    }
    const queue = this.queue;
    queue.push(slot, time, this.nextSeq++);
    const rec = queue.rec;
    const m = slot * REC_STRIDE;
    rec[m + KIND] = kind;
    rec[m + ARG] = arg;
    rec[m + SINK] = sinkNo;
    if (payload !== undefined) {
      rec[m + HAS_PAYLOAD] = 1;
      this.payloads.set(slot, payload);
    } else {
      rec[m + HAS_PAYLOAD] = 0;
    }
    this.live++;
    return rec[m + GEN] * SLOT_LIMIT + slot;
  }

  private addSink(sink: EventSink): number {
    const n = this.sinks.length;
    this.sinks.push(sink);
    this.sinkNumbers.set(sink, n);
    return n;
  }

  /** Cancels a pending event. Returns false if it already fired or was cancelled. */
  cancel(id: EventId): boolean {
    if (id < 0) return this.pastEnd.delete(id);
    if (!this.isPending(id)) return false;
    const slot = id % SLOT_LIMIT;
    // Lazy deletion: the queue entry stays until it surfaces, then is dropped.
    this.queue.rec[slot * REC_STRIDE + SINK] = -1;
    this.payloads.delete(slot);
    this.live--;
    return true;
  }

  /** True if the event is still pending. */
  isPending(id: EventId): boolean {
    if (id < 0) return this.pastEnd.has(id);
    const slot = id % SLOT_LIMIT;
    const gen = (id - slot) / SLOT_LIMIT;
    const m = slot * REC_STRIDE;
    return slot < this.slotCount && this.queue.rec[m + GEN] === gen && this.queue.rec[m + SINK] >= 0;
  }

  /** The next event to fire, without firing it. */
  peek(): EventView | null {
    const slot = this.liveTop();
    if (slot < 0) return null;
    const rec = this.queue.rec;
    const m = slot * REC_STRIDE;
    return {
      id: rec[m + GEN] * SLOT_LIMIT + slot,
      time: rec[m + REC_TIME],
      seq: rec[m + REC_SEQ],
      sink: this.sinks[rec[m + SINK]],
      kind: rec[m + KIND],
      arg: rec[m + ARG],
      payload: this.payloads.get(slot),
    };
  }

  /** Time of the next event, or Infinity when idle. */
  nextTime(): number {
    const slot = this.liveTop();
    return slot < 0 ? Infinity : this.queue.timeOf(slot);
  }

  /** Fires one event. Returns false when there is none. */
  step(): boolean {
    const queue = this.queue;
    for (;;) {
      const slot = queue.pop();
      if (slot < 0) return false;
      const rec = queue.rec;
      const m = slot * REC_STRIDE;
      const sinkNo = rec[m + SINK];
      if (sinkNo < 0) {
        this.releaseSlot(slot);
        continue;
      }
      const time = rec[m + REC_TIME];
      const kind = rec[m + KIND];
      const arg = rec[m + ARG];
      let payload: unknown;
      if (rec[m + HAS_PAYLOAD] !== 0) {
        payload = this.payloads.get(slot);
        this.payloads.delete(slot);
      }
      this.releaseSlot(slot);
      this.live--;
      this.now = time;
      this.fired++;
      const sink = this.sinks[sinkNo];
      if (this.observer !== null) this.observer(time, sink, kind, arg);
      sink.fire(kind, arg, payload);
      return true;
    }
  }

  /** Runs until no event is pending, or `maxEvents` have fired. Returns the number fired. */
  runUntilIdle(maxEvents = Infinity): number {
    let n = 0;
    while (n < maxEvents && this.step()) n++;
    return n;
  }

  /** Runs every event at or before `time`, then sets the clock to `time`. */
  runUntil(time: number): number {
    checkTime(time, 'run until');
    let n = 0;
    while (this.nextTime() <= time) {
      this.step();
      n++;
    }
    if (time > this.now) this.now = time;
    return n;
  }

  /** Fires events while `keepGoing()` holds before each one. Returns the number fired. */
  runWhile(keepGoing: () => boolean, maxEvents = Infinity): number {
    let n = 0;
    while (n < maxEvents && keepGoing() && this.step()) n++;
    return n;
  }

  /** The next slot that was not cancelled (dropping cancelled ones), or -1. */
  private liveTop(): number {
    for (;;) {
      const slot = this.queue.peek();
      if (slot < 0 || this.queue.rec[slot * REC_STRIDE + SINK] >= 0) return slot;
      this.releaseSlot(this.queue.pop());
    }
  }

  private newSlot(): number {
    if (this.slotCount === this.capacity) this.grow();
    return this.slotCount++;
  }

  private releaseSlot(slot: number): void {
    const rec = this.queue.rec;
    const g = slot * REC_STRIDE + GEN;
    rec[g] = (rec[g] + 1) & GEN_MASK;
    rec[slot * REC_STRIDE + SINK] = -1;
    this.freeSlots[this.freeCount++] = slot;
  }

  private grow(): void {
    const n = this.capacity * 2;
    if (n > SLOT_LIMIT) throw new SimTimeError(`more than ${SLOT_LIMIT} events pending at once`);
    this.queue.reserve(n);
    const free = new Int32Array(n);
    free.set(this.freeSlots);
    this.freeSlots = free;
    this.capacity = n;
  }
}
