import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildImage, parseImage } from '../../kernel/job/image.ts';
import { imageOf } from '../../monitor/launch.ts';
import { APPS } from '../../userland/apps/index.ts';

const contents = { name: 'demo', text: new TextEncoder().encode('margay-text 1\0demo\0function* main() {}\0'), textBytes: 64 * 1024, data: new Uint8Array([1, 2, 3, 4]), dataBytes: 4096, bssBytes: 8192 };

describe('executable images', () => {
  it('round-trip: name, segments, sizes and hash survive build and parse', () => {
    const r = parseImage(buildImage(contents));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.image).toMatchObject({ name: 'demo', textBytes: 64 * 1024, dataBytes: 4, bssBytes: 4096 + 8192 - 4, entry: 0x400000 });
    expect(r.image.text).toEqual(contents.text);
    expect(r.image.data).toEqual(contents.data);
  });

  it('are real ELF64 x86-64 executables', () => {
    const b = buildImage(contents);
    expect([...b.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
    expect(b[4]).toBe(2);
    expect(new DataView(b.buffer).getUint16(18, true)).toBe(62);
  });

  it('are refused with a precise reason when malformed', () => {
    const good = buildImage(contents);
    const mutate = (f: (b: Uint8Array, dv: DataView) => void) => {
      const b = good.slice();
      f(b, new DataView(b.buffer));
      const r = parseImage(b);
      return r.ok ? 'ok' : r.reason;
    };
    expect(mutate((b) => (b[1] = 0))).toMatch(/bad magic/);
    expect(mutate((b) => (b[4] = 1))).toMatch(/not a 64-bit ELF/);
    expect(mutate((_, dv) => dv.setUint16(16, 3, true))).toMatch(/not an executable/);
    expect(mutate((_, dv) => dv.setUint16(18, 40, true))).toMatch(/machine 40 is not x86-64/);
    expect(mutate((_, dv) => dv.setBigUint64(24, 0x10n, true))).toMatch(/entry point 0x10 is outside the text segment/);
    expect(mutate((_, dv) => dv.setBigUint64(64 + 32, 1n << 40n, true))).toMatch(/truncated: segment 0/);
    const r = parseImage(good.subarray(0, 40));
    expect(r.ok ? '' : r.reason).toMatch(/truncated: 40 bytes/);
    const noteless = parseImage(good.subarray(0, good.length - 8));
    expect(noteless.ok ? '' : noteless.reason).toMatch(/truncated|note/);
  });

  it('detect a corrupted segment by the content hash', () => {
    const b = buildImage(contents);
    const r0 = parseImage(b);
    if (!r0.ok) throw new Error(r0.reason);
    const textAt = b.indexOf(0x6d); // 'm' of margay-text: the first text byte
    b[textAt + 3] ^= 1;
    const r = parseImage(b);
    expect(r.ok ? '' : r.reason).toMatch(/content hash mismatch.*corrupted/);
  });

  it('never throw, and never accept a changed segment byte, under random corruption and truncation (fuzz)', () => {
    const good = imageOf(APPS.hello);
    const parsed = parseImage(good);
    if (!parsed.ok) throw new Error(parsed.reason);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(good.length), (flips, cut) => {
        const b = good.slice(0, Math.max(cut, 1));
        for (const [at, x] of flips) if (at < b.length) b[at] ^= x;
        const r = parseImage(b);
        if (r.ok) {
          // Whatever parses must be exactly the original code and data.
          expect(r.image.text).toEqual(parsed.image.text);
          expect(r.image.data).toEqual(parsed.image.data);
        }
      }),
      { numRuns: 500, seed: 7 },
    );
  });
});
