// A node's physical memory. Frames of 4 KiB exist on the host only once
// written, so an idle node costs a few bytes; reads of untouched memory see
// zeros. Every access is bounds-checked and reports a MachineCheck rather
// than a host exception. Copies go frame by frame with TypedArray.set.

import { MachineCheck } from './errors.ts';

const FRAME_SIZE = 4096;
const FRAME_MASK = FRAME_SIZE - 1;

export class PhysicalMemory {
  private frames: Map<number, Uint8Array> | null = null;

  constructor(
    readonly node: number,
    readonly size: number,
  ) {}

  /** Frames that exist on the host. */
  get touchedFrames(): number {
    return this.frames?.size ?? 0;
  }

  check(addr: number, len: number): void {
    if (!(Number.isSafeInteger(addr) && Number.isSafeInteger(len) && addr >= 0 && len >= 0 && addr + len <= this.size)) {
      throw new MachineCheck(this.node, addr, len, `access outside physical memory (0..0x${this.size.toString(16)})`);
    }
  }

  private frame(n: number): Uint8Array {
    if (this.frames === null) this.frames = new Map();
    let f = this.frames.get(n);
    if (f === undefined) {
      f = new Uint8Array(FRAME_SIZE);
      this.frames.set(n, f);
    }
    return f;
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
      const off = a & FRAME_MASK;
      const n = Math.min(FRAME_SIZE - off, dst.length - done);
      const f = this.frames?.get(Math.floor(a / FRAME_SIZE));
      if (f === undefined) dst.fill(0, done, done + n);
      else dst.set(f.subarray(off, off + n), done);
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
      const off = a & FRAME_MASK;
      const n = Math.min(FRAME_SIZE - off, src.length - done);
      this.frame(Math.floor(a / FRAME_SIZE)).set(src.subarray(done, done + n), off);
      done += n;
    }
    if (this.doorbell !== null) this.doorbell(addr, src.length);
  }

  /** Zeroes a range (frames that do not exist stay absent). */
  zero(addr: number, len: number): void {
    this.check(addr, len);
    if (this.watcher !== null) this.watcher(addr, len, true);
    if (this.frames === null || this.frames.size === 0) return;
    const first = Math.floor(addr / FRAME_SIZE);
    const last = Math.floor((addr + len - 1) / FRAME_SIZE);
    if (last - first + 1 > this.frames.size * 4) {
      // A large range over a sparse memory: visit the frames that exist, not the range.
      for (const [n, f] of [...this.frames]) {
        if (n < first || n > last) continue;
        const lo = Math.max(addr, n * FRAME_SIZE) - n * FRAME_SIZE;
        const hi = Math.min(addr + len, (n + 1) * FRAME_SIZE) - n * FRAME_SIZE;
        if (lo === 0 && hi === FRAME_SIZE) this.frames.delete(n);
        else f.fill(0, lo, hi);
      }
      return;
    }
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const off = a & FRAME_MASK;
      const n = Math.min(FRAME_SIZE - off, len - done);
      const fn = Math.floor(a / FRAME_SIZE);
      if (n === FRAME_SIZE) this.frames.delete(fn);
      else this.frames.get(fn)?.fill(0, off, off + n);
      done += n;
    }
  }

  readU8(addr: number): number {
    this.check(addr, 1);
    if (this.watcher !== null) this.watcher(addr, 1, false);
    const f = this.frames?.get(Math.floor(addr / FRAME_SIZE));
    return f === undefined ? 0 : f[addr & FRAME_MASK];
  }

  writeU8(addr: number, v: number): void {
    this.check(addr, 1);
    if (this.watcher !== null) this.watcher(addr, 1, true);
    this.frame(Math.floor(addr / FRAME_SIZE))[addr & FRAME_MASK] = v;
  }

  readU32(addr: number): number {
    this.check(addr, 4);
    const off = addr & FRAME_MASK;
    if (off <= FRAME_SIZE - 4) {
      if (this.watcher !== null) this.watcher(addr, 4, false);
      const f = this.frames?.get(Math.floor(addr / FRAME_SIZE));
      if (f === undefined) return 0;
      return (f[off] | (f[off + 1] << 8) | (f[off + 2] << 16) | (f[off + 3] << 24)) >>> 0;
    }
    const b = new Uint8Array(4);
    this.read(addr, b);
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  writeU32(addr: number, v: number): void {
    this.check(addr, 4);
    const off = addr & FRAME_MASK;
    if (off <= FRAME_SIZE - 4) {
      if (this.watcher !== null) this.watcher(addr, 4, true);
      const f = this.frame(Math.floor(addr / FRAME_SIZE));
      f[off] = v;
      f[off + 1] = v >>> 8;
      f[off + 2] = v >>> 16;
      f[off + 3] = v >>> 24;
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
