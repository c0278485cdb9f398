// A node's physical memory. Storage exists on the host only once written,
// in 256-byte chunks (a node writes a few scattered words into most of its
// 4 KiB pages: page tables, the stack top, a job block), so an idle node
// costs a few bytes and a loaded one a few KiB; reads of untouched memory
// see zeros. Chunks live in the node's slabs (one growing array, then 1 MiB
// slabs), not one host object each, which keeps the garbage collector out
// of it. Every access is bounds-checked and reports a MachineCheck rather
// than a host exception.

import { MachineCheck } from './errors.ts';

/** Host storage granule (bytes). */
const CHUNK = 256;
const CHUNK_MASK = CHUNK - 1;
/** 4 KiB frames: what `touchedFrames` counts. */
const CHUNKS_PER_FRAME = 4096 / CHUNK;
/** Chunks per full slab (1 MiB); the first slab grows by a quarter at a time up to this. */
const SLAB_SHIFT = 12;
const SLAB_CHUNKS = 1 << SLAB_SHIFT;
const SLAB_SLOT_MASK = SLAB_CHUNKS - 1;
const FIRST_SLAB_CHUNKS = 8;
/** Copies up to this many bytes go byte by byte (cheaper than a subarray). */
const SMALL_COPY = 32;

export class PhysicalMemory {
  /** Chunk number -> its slot in the slabs; null until the first write. */
  private slots: Map<number, number> | null = null;
  private slabs: Uint8Array[] = [];
  /** Slots handed out so far, and slots given back by zero() (kept zeroed). */
  private slotCount = 0;
  private freeSlots: number[] | null = null;

  constructor(
    readonly node: number,
    readonly size: number,
  ) {}

  /** 4 KiB frames with any host storage. */
  get touchedFrames(): number {
    if (this.slots === null) return 0;
    const frames = new Set<number>();
    for (const c of this.slots.keys()) frames.add(Math.floor(c / CHUNKS_PER_FRAME));
    return frames.size;
  }

  /** Host bytes holding this memory's contents. */
  get hostBytes(): number {
    return this.slabs.reduce((a, s) => a + s.length, 0);
  }

  check(addr: number, len: number): void {
    if (!(Number.isSafeInteger(addr) && Number.isSafeInteger(len) && addr >= 0 && len >= 0 && addr + len <= this.size)) {
      throw new MachineCheck(this.node, addr, len, `access outside physical memory (0..0x${this.size.toString(16)})`);
    }
  }

  /** The slot of chunk `c`, or -1 if it has no storage. */
  private slotOf(c: number): number {
    const s = this.slots?.get(c);
    return s === undefined ? -1 : s;
  }

  /** The slot of chunk `c`, given storage (zeroed) if it had none. */
  private claim(c: number): number {
    if (this.slots === null) this.slots = new Map();
    let s = this.slots.get(c);
    if (s !== undefined) return s;
    if (this.freeSlots !== null && this.freeSlots.length > 0) s = this.freeSlots.pop()!;
    else {
      s = this.slotCount++;
      const slab = s >> SLAB_SHIFT;
      if (slab === this.slabs.length) this.slabs.push(new Uint8Array((slab === 0 ? FIRST_SLAB_CHUNKS : SLAB_CHUNKS) * CHUNK));
      else if (slab === 0 && s * CHUNK >= this.slabs[0].length) {
        // A quarter at a time (in steps of FIRST_SLAB_CHUNKS), not doubling: a loaded node
        // uses about 40 chunks, and doubling left it holding 64 (6 KiB unused on every node).
        const chunks = this.slabs[0].length / CHUNK;
        const grown = new Uint8Array(Math.min(SLAB_CHUNKS, Math.ceil((chunks * 1.25) / FIRST_SLAB_CHUNKS) * FIRST_SLAB_CHUNKS) * CHUNK);
        grown.set(this.slabs[0]);
        this.slabs[0] = grown;
      }
    }
    this.slots.set(c, s);
    return s;
  }

  /** Gives chunk `c`'s storage back (zeroed for its next owner). */
  private release(c: number, s: number): void {
    this.slabs[s >> SLAB_SHIFT].fill(0, (s & SLAB_SLOT_MASK) * CHUNK, ((s & SLAB_SLOT_MASK) + 1) * CHUNK);
    this.slots!.delete(c);
    (this.freeSlots ??= []).push(s);
  }

  /**
   * Told of every access (a debugger's read and access watchpoints); null
   * unless something watches this node, so the usual cost is one test.
   */
  watcher: ((addr: number, len: number, write: boolean) => void) | null = null;
  /** Told of every write(): the U-Net doorbell (hw/unet/send.ts); null without endpoints. */
  doorbell: ((addr: number, len: number) => void) | null = null;

  /** Copies `dst.length` bytes starting at physical `addr` into `dst`. */
  read(addr: number, dst: Uint8Array): void {
    this.check(addr, dst.length);
    if (this.watcher !== null) this.watcher(addr, dst.length, false);
    let done = 0;
    while (done < dst.length) {
      const a = addr + done;
      const off = a & CHUNK_MASK;
      const n = Math.min(CHUNK - off, dst.length - done);
      const s = this.slotOf(Math.floor(a / CHUNK));
      if (s < 0) dst.fill(0, done, done + n);
      else {
        const at = (s & SLAB_SLOT_MASK) * CHUNK + off;
        const slab = this.slabs[s >> SLAB_SHIFT];
        // A few bytes (a word, a descriptor) are copied by hand, without a subarray.
        if (n <= SMALL_COPY) for (let i = 0; i < n; i++) dst[done + i] = slab[at + i];
        else dst.set(slab.subarray(at, at + n), done);
      }
      done += n;
    }
  }

  /** Copies `src` into physical memory at `addr`. */
  write(addr: number, src: Uint8Array): void {
    this.check(addr, src.length);
    if (this.watcher !== null) this.watcher(addr, src.length, true);
    let done = 0;
    while (done < src.length) {
      const a = addr + done;
      const off = a & CHUNK_MASK;
      const n = Math.min(CHUNK - off, src.length - done);
      const s = this.claim(Math.floor(a / CHUNK));
      const at = (s & SLAB_SLOT_MASK) * CHUNK + off;
      const slab = this.slabs[s >> SLAB_SHIFT];
      if (n <= SMALL_COPY) for (let i = 0; i < n; i++) slab[at + i] = src[done + i];
      else slab.set(src.subarray(done, done + n), at);
      done += n;
    }
    if (this.doorbell !== null) this.doorbell(addr, src.length);
  }

  /** Zeroes a range (chunks without storage stay without). */
  zero(addr: number, len: number): void {
    this.check(addr, len);
    if (this.watcher !== null) this.watcher(addr, len, true);
    const slots = this.slots;
    if (slots === null || slots.size === 0) return;
    const first = Math.floor(addr / CHUNK);
    const last = Math.floor((addr + len - 1) / CHUNK);
    if (last - first + 1 > slots.size * 4) {
      // A large range over a sparse memory: visit the chunks that exist, not the range.
      for (const [c, s] of [...slots]) {
        if (c < first || c > last) continue;
        const lo = Math.max(addr, c * CHUNK) - c * CHUNK;
        const hi = Math.min(addr + len, (c + 1) * CHUNK) - c * CHUNK;
        if (lo === 0 && hi === CHUNK) this.release(c, s);
        else this.slabs[s >> SLAB_SHIFT].fill(0, (s & SLAB_SLOT_MASK) * CHUNK + lo, (s & SLAB_SLOT_MASK) * CHUNK + hi);
      }
      return;
    }
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const off = a & CHUNK_MASK;
      const n = Math.min(CHUNK - off, len - done);
      const c = Math.floor(a / CHUNK);
      const s = this.slotOf(c);
      if (s >= 0) {
        if (n === CHUNK) this.release(c, s);
        else this.slabs[s >> SLAB_SHIFT].fill(0, (s & SLAB_SLOT_MASK) * CHUNK + off, (s & SLAB_SLOT_MASK) * CHUNK + off + n);
      }
      done += n;
    }
  }

  readU8(addr: number): number {
    this.check(addr, 1);
    if (this.watcher !== null) this.watcher(addr, 1, false);
    const s = this.slotOf(Math.floor(addr / CHUNK));
    return s < 0 ? 0 : this.slabs[s >> SLAB_SHIFT][(s & SLAB_SLOT_MASK) * CHUNK + (addr & CHUNK_MASK)];
  }

  writeU8(addr: number, v: number): void {
    this.check(addr, 1);
    if (this.watcher !== null) this.watcher(addr, 1, true);
    const s = this.claim(Math.floor(addr / CHUNK));
    this.slabs[s >> SLAB_SHIFT][(s & SLAB_SLOT_MASK) * CHUNK + (addr & CHUNK_MASK)] = v;
  }

  readU32(addr: number): number {
    this.check(addr, 4);
    const off = addr & CHUNK_MASK;
    if (off <= CHUNK - 4) {
      if (this.watcher !== null) this.watcher(addr, 4, false);
      const s = this.slotOf(Math.floor(addr / CHUNK));
      if (s < 0) return 0;
      const f = this.slabs[s >> SLAB_SHIFT];
      const at = (s & SLAB_SLOT_MASK) * CHUNK + off;
      return (f[at] | (f[at + 1] << 8) | (f[at + 2] << 16) | (f[at + 3] << 24)) >>> 0;
    }
    const b = new Uint8Array(4);
    this.read(addr, b);
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  writeU32(addr: number, v: number): void {
    this.check(addr, 4);
    const off = addr & CHUNK_MASK;
    if (off <= CHUNK - 4) {
      if (this.watcher !== null) this.watcher(addr, 4, true);
      const s = this.claim(Math.floor(addr / CHUNK));
      const f = this.slabs[s >> SLAB_SHIFT];
      const at = (s & SLAB_SLOT_MASK) * CHUNK + off;
      f[at] = v;
      f[at + 1] = v >>> 8;
      f[at + 2] = v >>> 16;
      f[at + 3] = v >>> 24;
      return;
    }
    const b = new Uint8Array(4);
    b[0] = v;
    b[1] = v >>> 8;
    b[2] = v >>> 16;
    b[3] = v >>> 24;
    this.write(addr, b);
  }

  /** A 64-bit little-endian value as a BigInt. */
  readU64(addr: number): bigint {
    const lo = this.readU32(addr);
    const hi = this.readU32(addr + 4);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  writeU64(addr: number, v: bigint): void {
    const x = BigInt.asUintN(64, v);
    this.writeU32(addr, Number(x & 0xffffffffn));
    this.writeU32(addr + 4, Number(x >> 32n));
  }

  /** Copies `len` bytes from this memory to another node's memory (what a DMA engine does). */
  copyTo(dst: PhysicalMemory, srcAddr: number, dstAddr: number, len: number): void {
    const buf = new Uint8Array(len);
    this.read(srcAddr, buf);
    dst.write(dstAddr, buf);
  }
}
