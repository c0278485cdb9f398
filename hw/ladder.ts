// The engine's pending-event set: a ladder queue (Tang, Goh and Thng, 2005),
// which keeps hold-model operations O(1) on average where a heap pays
// O(log n) cache misses. Entries are slot numbers. Each slot owns a record
// of REC_STRIDE doubles in `rec`: its key (time, then insertion sequence) at
// REC_TIME and REC_SEQ, and the rest free for the engine's own fields, so
// that one cache line holds everything about an event. Buckets are singly
// linked lists threaded through `next`, so nothing is allocated per entry.
//
//   top     unsorted far-future entries (time >= topStart)
//   rungs   bucket arrays; each finer rung subdivides one bucket of the rung above
//   bottom  a short array sorted ascending, consumed from `bottomHead`
//
// A small bucket is sorted into bottom; a large one is spread over a new,
// finer rung. Order is exactly (time, seq) whatever the ladder's shape.

const MAX_RUNGS = 8;
/** A bucket with more entries than this is subdivided rather than sorted. */
const SPAWN_THRESHOLD = 48;
const NIL = -1;

export const REC_STRIDE = 8;
export const REC_TIME = 0;
export const REC_SEQ = 1;

class Rung {
  start = 0;
  width = 1;
  /** Bucket being consumed; earlier buckets are empty. */
  cur = 0;
  nb = 0;
  heads = new Int32Array(16);
  counts = new Int32Array(16);

  reset(start: number, width: number, nb: number): void {
    this.start = start;
    this.width = width;
    this.cur = 0;
    if (nb > this.heads.length) {
      let cap = this.heads.length;
      while (cap < nb) cap *= 2;
      this.heads = new Int32Array(cap);
      this.counts = new Int32Array(cap);
    }
    this.heads.fill(NIL, 0, nb);
    this.counts.fill(0, 0, nb);
    this.nb = nb;
  }
}

export class LadderQueue {
  rec = new Float64Array(1024 * REC_STRIDE);
  private next = new Int32Array(1024);
  private topHead = NIL;
  private topCount = 0;
  private topMin = Infinity;
  private topMax = -Infinity;
  private topStart = 0;
  private readonly rungs: Rung[] = [];
  private nRungs = 0;
  private bottom = new Int32Array(256);
  private bottomHead = 0;
  private bottomEnd = 0;
  size = 0;

  /** Makes room for slot numbers below `n`. */
  reserve(n: number): void {
    if (n <= this.next.length) return;
    let cap = this.next.length;
    while (cap < n) cap *= 2;
    const r = new Float64Array(cap * REC_STRIDE);
    r.set(this.rec);
    this.rec = r;
    const nx = new Int32Array(cap);
    nx.set(this.next);
    this.next = nx;
  }

  push(slot: number, time: number, seq: number): void {
    this.rec[slot * REC_STRIDE + REC_TIME] = time;
    this.rec[slot * REC_STRIDE + REC_SEQ] = seq;
    this.size++;
    if (time >= this.topStart) {
      this.next[slot] = this.topHead;
      this.topHead = slot;
      this.topCount++;
      if (time < this.topMin) this.topMin = time;
      if (time > this.topMax) this.topMax = time;
      return;
    }
    for (let i = 0; i < this.nRungs; i++) {
      const r = this.rungs[i];
      if (time >= r.start + r.cur * r.width) {
        const b = Math.floor((time - r.start) / r.width);
        this.next[slot] = r.heads[b];
        r.heads[b] = slot;
        r.counts[b]++;
        return;
      }
    }
    this.insertBottom(slot);
  }

  /** The slot with the smallest key, without removing it; -1 when empty. */
  peek(): number {
    if (this.bottomHead === this.bottomEnd && !this.refill()) return NIL;
    return this.bottom[this.bottomHead];
  }

  /** Removes and returns the slot with the smallest key; -1 when empty. */
  pop(): number {
    if (this.bottomHead === this.bottomEnd && !this.refill()) return NIL;
    this.size--;
    return this.bottom[this.bottomHead++];
  }

  timeOf(slot: number): number {
    return this.rec[slot * REC_STRIDE + REC_TIME];
  }

  seqOf(slot: number): number {
    return this.rec[slot * REC_STRIDE + REC_SEQ];
  }

  private less(a: number, b: number): boolean {
    const ta = this.rec[a * REC_STRIDE + REC_TIME];
    const tb = this.rec[b * REC_STRIDE + REC_TIME];
    return ta < tb || (ta === tb && this.rec[a * REC_STRIDE + REC_SEQ] < this.rec[b * REC_STRIDE + REC_SEQ]);
  }

  private insertBottom(slot: number): void {
    if (this.bottomEnd === this.bottom.length) this.compactBottom();
    const b = this.bottom;
    // Binary search for the place; new entries usually go last (FIFO ties), so try that first.
    let lo = this.bottomHead;
    let hi = this.bottomEnd;
    if (hi > lo && this.less(b[hi - 1], slot)) lo = hi;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.less(b[mid], slot)) lo = mid + 1;
      else hi = mid;
    }
    b.copyWithin(lo + 1, lo, this.bottomEnd);
    b[lo] = slot;
    this.bottomEnd++;
  }

  /** Moves live bottom entries to the front, doubling the array when it is over half full. */
  private compactBottom(): void {
    const live = this.bottomEnd - this.bottomHead;
    if (live * 2 > this.bottom.length) {
      const nb = new Int32Array(this.bottom.length * 2);
      nb.set(this.bottom.subarray(this.bottomHead, this.bottomEnd));
      this.bottom = nb;
    } else {
      this.bottom.copyWithin(0, this.bottomHead, this.bottomEnd);
    }
    this.bottomHead = 0;
    this.bottomEnd = live;
  }

  /** Fills the empty bottom from the ladder (or the top). Returns false when nothing is pending. */
  private refill(): boolean {
    for (;;) {
      if (this.nRungs === 0) {
        if (this.topCount === 0) return false;
        this.topToRung();
        continue;
      }
      const r = this.rungs[this.nRungs - 1];
      while (r.cur < r.nb && r.counts[r.cur] === 0) r.cur++;
      if (r.cur === r.nb) {
        this.nRungs--;
        continue;
      }
      const b = r.cur++;
      const head = r.heads[b];
      const count = r.counts[b];
      const bucketStart = r.start + b * r.width;
      if (count > SPAWN_THRESHOLD && this.nRungs < MAX_RUNGS && r.width > 1 && !this.allSameTime(head)) {
        this.spawn(bucketStart, r.width, head, count);
        continue;
      }
      this.sortIntoBottom(head, count);
      return true;
    }
  }

  private allSameTime(head: number): boolean {
    const t = this.timeOf(head);
    for (let s = this.next[head]; s !== NIL; s = this.next[s]) if (this.timeOf(s) !== t) return false;
    return true;
  }

  private sortIntoBottom(head: number, count: number): void {
    if (count > this.bottom.length) {
      let cap = this.bottom.length;
      while (cap < count) cap *= 2;
      this.bottom = new Int32Array(cap);
    }
    const b = this.bottom;
    let n = 0;
    for (let s = head; s !== NIL; s = this.next[s]) b[n++] = s;
    if (n > SPAWN_THRESHOLD) {
      const rec = this.rec;
      b.subarray(0, n).sort((x, y) => rec[x * REC_STRIDE] - rec[y * REC_STRIDE] || rec[x * REC_STRIDE + REC_SEQ] - rec[y * REC_STRIDE + REC_SEQ]);
    } else {
      for (let i = 1; i < n; i++) {
        const s = b[i];
        let j = i;
        while (j > 0 && this.less(s, b[j - 1])) {
          b[j] = b[j - 1];
          j--;
        }
        b[j] = s;
      }
    }
    this.bottomHead = 0;
    this.bottomEnd = n;
  }

  private topToRung(): void {
    const n = this.topCount;
    const span = this.topMax - this.topMin;
    const width = Math.max(1, Math.ceil((span + 1) / n));
    const r = this.rungAt(0);
    r.reset(this.topMin, width, Math.floor(span / width) + 1);
    this.distribute(r, this.topHead);
    this.nRungs = 1;
    this.topStart = r.start + r.nb * width;
    this.topHead = NIL;
    this.topCount = 0;
    this.topMin = Infinity;
    this.topMax = -Infinity;
  }

  private spawn(start: number, parentWidth: number, head: number, count: number): void {
    const width = Math.max(1, Math.ceil(parentWidth / count));
    const r = this.rungAt(this.nRungs);
    r.reset(start, width, Math.ceil(parentWidth / width));
    this.distribute(r, head);
    this.nRungs++;
  }

  private distribute(r: Rung, head: number): void {
    const next = this.next;
    for (let s = head; s !== NIL; ) {
      const after = next[s];
      const b = Math.floor((this.timeOf(s) - r.start) / r.width);
      next[s] = r.heads[b];
      r.heads[b] = s;
      r.counts[b]++;
      s = after;
    }
  }

  private rungAt(index: number): Rung {
    let r = this.rungs[index];
    if (r === undefined) {
      r = new Rung();
      this.rungs[index] = r;
    }
    return r;
  }
}
