// A core's TLB: entries tagged by address-space id, 4 KiB and 2 MiB pages in
// one LRU array of the profile's size, with hit and miss counters. Arrays are
// allocated on the first insert and grow with use up to the capacity, so an
// idle or lightly used core costs little.

import { PAGE_2M, PAGE_4K } from './mmu.ts';

export const TLB_WRITABLE = 1;
export const TLB_USER = 2;
export const TLB_EXEC = 4;

export interface TlbEntryView {
  readonly index: number;
  readonly asid: number;
  readonly va: number;
  readonly pa: number;
  readonly pageSize: number;
  readonly flags: number;
  readonly lastUse: number;
}

const ASID_LIMIT = 4096;

function key(asid: number, va: number, huge: boolean): number {
  const vpn = huge ? Math.floor(va / PAGE_2M) : Math.floor(va / PAGE_4K);
  return (asid * 2 + (huge ? 1 : 0)) * 2 ** 36 + vpn;
}

export class Tlb {
  hits = 0;
  misses = 0;
  flushes = 0;
  invalidations = 0;
  private keys: Float64Array | null = null;
  private bases: Float64Array | null = null;
  private vas: Float64Array | null = null;
  private asids: Int32Array | null = null;
  private flags: Uint8Array | null = null;
  private huge: Uint8Array | null = null;
  private stamps: Float64Array | null = null;
  private readonly index = new Map<number, number>();
  private clock = 0;
  private used = 0;

  constructor(readonly capacity: number) {}

  /** Number of valid entries. */
  get size(): number {
    return this.index.size;
  }

  /**
   * Looks up `va` in address space `asid`. Returns the physical address, or -1
   * on a miss. `flagsOut[0]` receives the entry's permission flags on a hit.
   */
  translate(asid: number, va: number, flagsOut: Uint8Array): number {
    let i = this.index.get(key(asid, va, false));
    if (i === undefined) i = this.index.get(key(asid, va, true));
    if (i === undefined) {
      this.misses++;
      return -1;
    }
    this.hits++;
    this.stamps![i] = ++this.clock;
    flagsOut[0] = this.flags![i];
    return this.bases![i] + (va - this.vas![i]);
  }

  /** Caches a translation of the page holding `va`. Evicts the least recently used entry when full. */
  insert(asid: number, va: number, pageBase: number, pageSize: number, flags: number): void {
    if (!Number.isInteger(asid) || asid < 0 || asid >= ASID_LIMIT) throw new RangeError(`asid ${asid} out of range`);
    const isHuge = pageSize === PAGE_2M;
    const k = key(asid, va, isHuge);
    let i = this.index.get(k);
    if (i === undefined) {
      if (this.used < this.capacity) {
        this.ensureRoom(this.used + 1);
        i = this.used++;
      } else i = this.victim();
      if (this.keys![i] >= 0) this.index.delete(this.keys![i]);
      this.index.set(k, i);
    }
    this.keys![i] = k;
    this.vas![i] = va - (va % pageSize);
    this.bases![i] = pageBase;
    this.asids![i] = asid;
    this.flags![i] = flags;
    this.huge![i] = isHuge ? 1 : 0;
    this.stamps![i] = ++this.clock;
  }

  /** Removes any entry of `asid` covering `va` (invlpg). */
  invalidatePage(asid: number, va: number): void {
    this.invalidations++;
    this.drop(key(asid, va, false));
    this.drop(key(asid, va, true));
  }

  /** Removes every entry of `asid`. */
  flushAsid(asid: number): void {
    this.flushes++;
    if (this.keys === null) return;
    for (let i = 0; i < this.used; i++) {
      if (this.keys[i] >= 0 && this.asids![i] === asid) this.drop(this.keys[i]);
    }
  }

  flushAll(): void {
    this.flushes++;
    if (this.keys === null) return;
    this.index.clear();
    this.keys.fill(-1);
  }

  entries(): TlbEntryView[] {
    const out: TlbEntryView[] = [];
    if (this.keys === null) return out;
    for (let i = 0; i < this.used; i++) {
      if (this.keys[i] < 0) continue;
      out.push({
        index: i,
        asid: this.asids![i],
        va: this.vas![i],
        pa: this.bases![i],
        pageSize: this.huge![i] ? PAGE_2M : PAGE_4K,
        flags: this.flags![i],
        lastUse: this.stamps![i],
      });
    }
    return out;
  }

  get hitRate(): number {
    const n = this.hits + this.misses;
    return n === 0 ? 0 : this.hits / n;
  }

  private drop(k: number): void {
    const i = this.index.get(k);
    if (i === undefined) return;
    this.index.delete(k);
    this.keys![i] = -1;
    this.stamps![i] = 0;
  }

  private victim(): number {
    const stamps = this.stamps!;
    const keys = this.keys!;
    let best = 0;
    for (let i = 0; i < this.used; i++) {
      if (keys[i] < 0) return i;
      if (stamps[i] < stamps[best]) best = i;
    }
    return best;
  }

  private ensureRoom(n: number): void {
    const have = this.keys?.length ?? 0;
    if (n <= have) return;
    const size = Math.min(this.capacity, Math.max(8, have * 2));
    const grow = <T extends Float64Array | Int32Array | Uint8Array>(old: T | null, make: (n: number) => T): T => {
      const a = make(size);
      if (old) a.set(old as never);
      return a;
    };
    const keys = new Float64Array(size).fill(-1);
    if (this.keys) keys.set(this.keys);
    this.keys = keys;
    this.bases = grow(this.bases, (k) => new Float64Array(k));
    this.vas = grow(this.vas, (k) => new Float64Array(k));
    this.asids = grow(this.asids, (k) => new Int32Array(k));
    this.flags = grow(this.flags, (k) => new Uint8Array(k));
    this.huge = grow(this.huge, (k) => new Uint8Array(k));
    this.stamps = grow(this.stamps, (k) => new Float64Array(k));
  }
}
