import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MachineCheck } from '../../hw/errors.ts';
import { PhysicalMemory } from '../../hw/memory.ts';
import { ContiguousAllocator } from '../../hw/physalloc.ts';

describe('physical memory', () => {
  it('costs nothing until written and reads zeros from untouched frames', () => {
    const m = new PhysicalMemory(0, 1 << 30);
    expect(m.touchedFrames).toBe(0);
    const buf = new Uint8Array(100).fill(9);
    m.read(12345, buf);
    expect(buf.every((b) => b === 0)).toBe(true);
    expect(m.touchedFrames).toBe(0);
  });

  it('reads back what was written across frame boundaries', () => {
    const m = new PhysicalMemory(0, 1 << 24);
    const data = new Uint8Array(10_000).map((_, i) => i & 0xff);
    m.write(4000, data);
    const got = new Uint8Array(10_000);
    m.read(4000, got);
    expect(got).toEqual(data);
    expect(m.touchedFrames).toBe(4);
  });

  it('stores 32- and 64-bit values little-endian', () => {
    const m = new PhysicalMemory(0, 1 << 24);
    m.writeU32(4094, 0xdeadbeef);
    expect(m.readU32(4094)).toBe(0xdeadbeef);
    expect(m.readU8(4094)).toBe(0xef);
    m.writeU64(8, 0x1122334455667788n);
    expect(m.readU64(8)).toBe(0x1122334455667788n);
    expect(m.readU8(8)).toBe(0x88);
  });

  it('raises a machine check, not a host error, for an access outside memory', () => {
    const m = new PhysicalMemory(3, 1 << 24);
    expect(() => m.read((1 << 24) - 2, new Uint8Array(4))).toThrow(MachineCheck);
    expect(() => m.writeU8(-1, 0)).toThrow(/machine check on node 3/);
    expect(() => m.readU32(Number.NaN)).toThrow(MachineCheck);
  });

  it('copies between two nodes\' memories like a DMA engine', () => {
    const a = new PhysicalMemory(0, 1 << 24);
    const b = new PhysicalMemory(1, 1 << 24);
    a.write(100, new Uint8Array([1, 2, 3, 4]));
    a.copyTo(b, 100, 9000, 4);
    expect(b.readU32(9000)).toBe(0x04030201);
  });
});

describe('physical memory on the host', () => {
  it('stores scattered small writes in a few bytes each, not a 4 KiB frame each', () => {
    const m = new PhysicalMemory(0, 1 << 30);
    // A page-table entry or a stack word in each of 16 pages.
    for (let i = 0; i < 16; i++) m.writeU32(i * 4096 + 8, i + 1);
    expect(m.touchedFrames).toBe(16);
    expect(m.hostBytes).toBeLessThanOrEqual(16 * 256);
    for (let i = 0; i < 16; i++) expect(m.readU32(i * 4096 + 8)).toBe(i + 1);
  });

  it('holds at most a quarter more host bytes than the chunks written, plus 2 KiB (seeded)', () => {
    // A loaded node writes a few dozen scattered chunks; storage that doubled held up to twice that.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 600 }), (chunks) => {
        const m = new PhysicalMemory(0, 1 << 30);
        for (let i = 0; i < chunks; i++) m.writeU32(i * 4096 + 8, i + 1);
        expect(m.hostBytes).toBeLessThanOrEqual(chunks * 256 * 1.25 + 2048);
        for (let i = 0; i < chunks; i++) expect(m.readU32(i * 4096 + 8)).toBe(i + 1);
      }),
      { seed: 17, numRuns: 60 },
    );
  });

  it('gives the storage of zeroed memory back and hands it out again zeroed', () => {
    const m = new PhysicalMemory(0, 1 << 24);
    m.write(0, new Uint8Array(8192).fill(0xaa));
    const held = m.hostBytes;
    m.zero(0, 8192);
    expect(m.touchedFrames).toBe(0);
    m.writeU8(100_000, 1);
    const got = new Uint8Array(256);
    m.read(100_000 & ~255, got);
    expect(got.reduce((a, b) => a + b, 0)).toBe(1);
    expect(m.hostBytes).toBe(held);
  });

  it('reads back exactly what a random sequence of writes, word stores and zeroings left (seeded)', () => {
    const SIZE = 1 << 18;
    const op = fc.oneof(
      fc.record({ k: fc.constant('write' as const), addr: fc.nat(SIZE - 1), len: fc.integer({ min: 1, max: 5000 }), v: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ k: fc.constant('u32' as const), addr: fc.nat(SIZE - 4), len: fc.constant(4), v: fc.nat() }),
      fc.record({ k: fc.constant('zero' as const), addr: fc.nat(SIZE - 1), len: fc.integer({ min: 1, max: 100_000 }), v: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const m = new PhysicalMemory(0, SIZE);
        const ref = new Uint8Array(SIZE);
        for (const o of ops) {
          const len = Math.min(o.len, SIZE - o.addr);
          if (o.k === 'write') {
            const src = new Uint8Array(len).map((_, i) => (o.v + i) & 0xff);
            m.write(o.addr, src);
            ref.set(src, o.addr);
          } else if (o.k === 'u32') {
            m.writeU32(o.addr, o.v);
            new DataView(ref.buffer).setUint32(o.addr, o.v, true);
          } else {
            m.zero(o.addr, len);
            ref.fill(0, o.addr, o.addr + len);
          }
        }
        const got = new Uint8Array(SIZE);
        m.read(0, got);
        expect(Buffer.compare(got, ref)).toBe(0);
        const at = Math.min(ops[0]?.addr ?? 0, SIZE - 4);
        expect(m.readU32(at)).toBe(new DataView(ref.buffer).getUint32(at, true));
      }),
      { seed: 17, numRuns: 150 },
    );
  });
});

describe('the contiguous allocator', () => {
  it('hands out aligned, non-overlapping, physically contiguous extents', () => {
    const al = new ContiguousAllocator(0, 1 << 24);
    const a = al.alloc(5000)!;
    const b = al.alloc(2 * 1024 * 1024, 2 * 1024 * 1024)!;
    expect(a % 4096).toBe(0);
    expect(b % (2 * 1024 * 1024)).toBe(0);
    expect(a + 5000 <= b || b + 2 * 1024 * 1024 <= a).toBe(true);
  });

  it('returns null when no extent fits, and coalesces on release', () => {
    const al = new ContiguousAllocator(0, 16384);
    const a = al.alloc(8192)!;
    const b = al.alloc(8192)!;
    expect(al.alloc(4096)).toBeNull();
    expect(al.release(a)).toBe(true);
    expect(al.release(a)).toBe(false);
    expect(al.release(b)).toBe(true);
    expect(al.freeExtents()).toEqual([{ base: 0, size: 16384 }]);
    expect(al.alloc(16384)).toBe(0);
  });

  it('rejects nonsense sizes and alignments', () => {
    const al = new ContiguousAllocator(0, 16384);
    expect(al.alloc(0)).toBeNull();
    expect(al.alloc(-5)).toBeNull();
    expect(al.alloc(100, 3)).toBeNull();
  });
});

describe('the next-fit allocator', () => {
  it('does not hand a just-freed extent straight back', () => {
    const al = new ContiguousAllocator(0, 1 << 20, 'next-fit');
    const a = al.alloc(4096)!;
    al.release(a);
    const b = al.alloc(4096)!;
    expect(b).not.toBe(a);
    // ...but wraps around to it when nothing else is free.
    const all: number[] = [];
    for (let x = al.alloc(4096); x !== null; x = al.alloc(4096)) all.push(x);
    expect(all).toContain(a);
  });
});
