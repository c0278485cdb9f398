// A core's local APIC: 256-vector IRR and ISR, priority by vector class
// (vector >> 4) against the in-service class, EOI, IPIs (fixed and NMI) to
// other cores of the node over the node's APIC bus, and a one-shot or
// periodic timer. It raises the core's INTR line through `onPending`.

import type { Engine, EventSink, EventId } from './engine.ts';
import { transferPs } from './time.ts';

/** The first 32 vectors are CPU exceptions; devices and IPIs use 32..255. */
const FIRST_DEVICE_VECTOR = 32;
export const NMI = -1;

const IPI_ARRIVES = 0;
const TIMER_FIRES = 1;

export type TimerMode = 'oneshot' | 'periodic';

export interface ApicTimerView {
  readonly armed: boolean;
  readonly mode: TimerMode;
  readonly vector: number;
  readonly initialCount: number;
  readonly expiresAt: number;
}

export class LocalApic implements EventSink {
  readonly irr = new Uint32Array(8);
  readonly isr = new Uint32Array(8);
  /** Task priority (class in bits 4..7); interrupts at or below it wait. */
  tpr = 0;
  nmiPending = false;
  /** The core's INTR line: called when an interrupt becomes pending. */
  onPending: (() => void) | null = null;
  /** Interrupts accepted per vector (for `info apic`): a node takes a handful of vectors, so a map of those, made at the first interrupt. */
  private acceptedPerVector: Map<number, number> | null = null;
  ipisSent = 0;
  ipisReceived = 0;
  /** Interrupts raised on a vector already pending (they merge, as on real hardware). */
  coalesced = 0;
  private timer: { mode: TimerMode; vector: number; initialCount: number; expiresAt: number; event: EventId } | null = null;

  constructor(
    readonly node: number,
    readonly core: number,
    private readonly engine: Engine,
    private readonly bus: readonly LocalApic[],
    private readonly timerHz: number,
    private readonly ipiLatencyPs: number,
  ) {}

  /** Sets a vector pending in the IRR. */
  raise(vector: number): void {
    if (vector === NMI) {
      this.nmiPending = true;
    } else {
      checkVector(vector);
      const w = vector >> 5;
      const bit = 1 << (vector & 31);
      if (this.irr[w] & bit) this.coalesced++;
      this.irr[w] |= bit;
    }
    this.onPending?.();
  }

  highestIrr(): number {
    return highest(this.irr);
  }

  highestIsr(): number {
    return highest(this.isr);
  }

  /** The class below which a pending vector must wait. */
  private processorPriority(): number {
    const isr = this.highestIsr();
    return Math.max(this.tpr >> 4, isr < 0 ? 0 : isr >> 4);
  }

  /** True when the highest pending vector outranks what is in service. */
  hasDeliverable(): boolean {
    const v = this.highestIrr();
    return v >= 0 && v >> 4 > this.processorPriority();
  }

  /** Accepts the highest deliverable vector (IRR -> ISR) and returns it, or -1. */
  acknowledge(): number {
    if (!this.hasDeliverable()) return -1;
    const v = this.highestIrr();
    this.irr[v >> 5] &= ~(1 << (v & 31));
    this.isr[v >> 5] |= 1 << (v & 31);
    const accepted = (this.acceptedPerVector ??= new Map());
    accepted.set(v, (accepted.get(v) ?? 0) + 1);
    return v;
  }

  /** Interrupts accepted per vector, 0..255 (a copy). */
  get accepted(): Float64Array {
    const out = new Float64Array(256);
    for (const [v, n] of this.acceptedPerVector ?? []) out[v] = n;
    return out;
  }

  /** Takes a pending NMI (not maskable, not in the ISR). */
  takeNmi(): boolean {
    const n = this.nmiPending;
    this.nmiPending = false;
    return n;
  }

  /** End of interrupt: retires the highest in-service vector. */
  eoi(): void {
    const v = this.highestIsr();
    if (v >= 0) this.isr[v >> 5] &= ~(1 << (v & 31));
    if (this.hasDeliverable()) this.onPending?.();
  }

  /** Sends a fixed IPI (vector) or an NMI (vector = NMI) to core `target` of this node. */
  sendIpi(target: number, vector: number): void {
    if (!Number.isInteger(target) || target < 0 || target >= this.bus.length) {
      throw new RangeError(`IPI to core ${target}: node ${this.node} has cores 0..${this.bus.length - 1}`);
    }
    if (vector !== NMI) checkVector(vector);
    this.ipisSent++;
    this.engine.after(this.ipiLatencyPs, this.bus[target], IPI_ARRIVES, vector);
  }

  /** Arms the timer: fires `vector` after `initialCount` ticks, once or every period. */
  setTimer(mode: TimerMode, vector: number, initialCount: number): void {
    checkVector(vector);
    if (!Number.isSafeInteger(initialCount) || initialCount < 1) throw new RangeError(`APIC timer count must be a whole number >= 1, got ${initialCount}`);
    this.stopTimer();
    const expiresAt = this.engine.now + transferPs(initialCount, this.timerHz);
    const event = this.engine.at(expiresAt, this, TIMER_FIRES, vector);
    this.timer = { mode, vector, initialCount, expiresAt, event };
  }

  stopTimer(): void {
    if (this.timer) this.engine.cancel(this.timer.event);
    this.timer = null;
  }

  timerView(): ApicTimerView {
    const t = this.timer;
    return t
      ? { armed: true, mode: t.mode, vector: t.vector, initialCount: t.initialCount, expiresAt: t.expiresAt }
      : { armed: false, mode: 'oneshot', vector: 0, initialCount: 0, expiresAt: 0 };
  }

  fire(kind: number, arg: number): void {
    if (kind === IPI_ARRIVES) {
      this.ipisReceived++;
      this.raise(arg);
      return;
    }
    const t = this.timer;
    if (t === null) return;
    if (t.mode === 'periodic') {
      t.expiresAt = this.engine.now + transferPs(t.initialCount, this.timerHz);
      t.event = this.engine.at(t.expiresAt, this, TIMER_FIRES, t.vector);
    } else {
      this.timer = null;
    }
    this.raise(arg);
  }

  describe(kind: number, arg: number): string {
    return kind === IPI_ARRIVES
      ? `apic ${this.node}.${this.core}: IPI ${arg === NMI ? 'NMI' : `vector ${arg}`} arrives`
      : `apic ${this.node}.${this.core}: timer fires vector ${arg}`;
  }

  /** Vectors set in a 256-bit register, lowest first. */
  static vectors(reg: Uint32Array): number[] {
    const out: number[] = [];
    for (let v = 0; v < 256; v++) if (reg[v >> 5] & (1 << (v & 31))) out.push(v);
    return out;
  }
}

function checkVector(vector: number): void {
  if (!Number.isInteger(vector) || vector < FIRST_DEVICE_VECTOR || vector > 255) {
    throw new RangeError(`interrupt vector ${vector} is not a device vector (${FIRST_DEVICE_VECTOR}..255)`);
  }
}

function highest(reg: Uint32Array): number {
  for (let w = 7; w >= 0; w--) {
    const bits = reg[w];
    if (bits !== 0) return w * 32 + 31 - Math.clz32(bits);
  }
  return -1;
}
