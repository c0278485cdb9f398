// The verifier's picture of the stack: which bytes hold data the program
// wrote (one bit per byte) and which 8-byte slots hold a spilled pointer.
// Every abstract step forks the state it came from, so forking must not cost
// the stack's size: the bits and the spill map are shared copy-on-write and
// copied only by the first write after a fork.

const WORD = 32;

export class StackFlags<V> {
  private bits: Uint32Array;
  /** The spilled pointers, as (8-byte-aligned offset, value) pairs: a copy costs what is spilled, not the stack's size. */
  private slots: (number | V)[];
  /** True while `bits` and `spillMap` may be shared with another StackFlags. */
  private shared = false;

  constructor(bytes: number, bits?: Uint32Array, slots?: (number | V)[]) {
    this.bits = bits ?? new Uint32Array(Math.ceil(bytes / WORD));
    this.slots = slots ?? [];
  }

  /** A copy that shares storage until either side writes. */
  fork(): StackFlags<V> {
    this.shared = true;
    const f = new StackFlags<V>(0, this.bits, this.slots);
    f.shared = true;
    return f;
  }

  private own(): void {
    if (!this.shared) return;
    this.bits = this.bits.slice();
    this.slots = this.slots.slice();
    this.shared = false;
  }

  /** The first byte in [lo, hi) that holds no data, or -1. */
  firstUnwritten(lo: number, hi: number): number {
    for (let i = lo; i < hi; i++) if (((this.bits[i >>> 5] >>> (i & 31)) & 1) === 0) return i;
    return -1;
  }

  setWritten(lo: number, hi: number, on: boolean): void {
    if (lo >= hi) return;
    this.own();
    for (let i = lo; i < hi; i++) {
      if (on) this.bits[i >>> 5] |= 1 << (i & 31);
      else this.bits[i >>> 5] &= ~(1 << (i & 31));
    }
  }

  /** The pointer spilled at an 8-byte-aligned offset, if any. */
  spill(at: number): V | undefined {
    for (let i = 0; i < this.slots.length; i += 2) if (this.slots[i] === at) return this.slots[i + 1] as V;
    return undefined;
  }

  setSpill(at: number, v: V): void {
    this.dropSpills(at, at + 8);
    this.own();
    this.slots.push(at, v);
  }

  /** Forgets the spilled pointers in 8-byte slots that overlap [lo, hi). */
  dropSpills(lo: number, hi: number): void {
    const hit = (i: number) => (this.slots[i] as number) < hi && (this.slots[i] as number) + 8 > lo;
    let any = false;
    for (let i = 0; i < this.slots.length && !any; i += 2) any = hit(i);
    if (!any) return;
    this.own();
    const kept: (number | V)[] = [];
    for (let i = 0; i < this.slots.length; i += 2) if (!hit(i)) kept.push(this.slots[i], this.slots[i + 1]);
    this.slots = kept;
  }

  /**
   * Narrows this to what holds on both paths (a byte is written only if it is
   * on both; a slot holds a pointer only if the same one on both); returns
   * whether anything changed. Costs the stack's words plus its slots.
   */
  meet(other: StackFlags<V>, same: (a: V, b: V) => boolean): boolean {
    let changed = false;
    if (other.bits !== this.bits) {
      for (let w = 0; w < this.bits.length; w++) {
        if ((this.bits[w] & ~other.bits[w]) !== 0) {
          if (!changed) this.own();
          changed = true;
          this.bits[w] &= other.bits[w];
        }
      }
    }
    if (other.slots !== this.slots) {
      const kept: (number | V)[] = [];
      for (let i = 0; i < this.slots.length; i += 2) {
        const o = other.spill(this.slots[i] as number);
        if (o !== undefined && same(o, this.slots[i + 1] as V)) kept.push(this.slots[i], this.slots[i + 1]);
      }
      if (kept.length < this.slots.length) {
        this.own();
        this.slots = kept;
        changed = true;
      }
    }
    return changed;
  }
}
