import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildImage, parseImage } from '../../kernel/job/image.ts';
import { EXTRA_AREAS_BASE, PAGE, decodeTemplate, encodeTemplate, sourceBytes, templateOf } from '../../kernel/rtask/template.ts';

function image(dataPages = 3) {
  const bytes = buildImage({ name: 'tpl', text: new TextEncoder().encode('tpl text'), textBytes: 8192, data: new Uint8Array(dataPages * PAGE).fill(7), dataBytes: dataPages * PAGE, bssBytes: 100 });
  const r = parseImage(bytes);
  if (!r.ok) throw new Error(r.reason);
  return r.image;
}

describe('the address-space template', () => {
  it('has the image\'s text and data paged in on reference, bss zero-filled, and one-page further areas', () => {
    const t = templateOf(image(), 6, 200);
    expect(t.areas.map((a) => [a.kind, a.cor])).toEqual([['text', true], ['data', true], ['bss', false], ['extra', true], ['extra', true], ['extra', true]]);
    expect(t.areas[0].start).toBe(0x400000);
    expect(t.areas[1].start).toBe(0x400000 + 8192);
    expect(t.areas[1].size).toBe(3 * PAGE);
    expect(t.areas[3].start).toBe(EXTRA_AREAS_BASE);
    expect(t.areas[4].start - t.areas[3].start).toBe(2 * PAGE);
  });

  it('holds the image\'s own bytes in the source object of each area', () => {
    const img = image();
    const t = templateOf(img, 4, 0);
    expect(sourceBytes(img, t.areas[1])[5]).toBe(7);
    expect(new TextDecoder().decode(sourceBytes(img, t.areas[0]).subarray(0, 8))).toBe('tpl text');
    expect(sourceBytes(img, t.areas[3])[0]).toBe(3);
  });

  it('travels as a descriptor that decodes to itself', () => {
    const t = templateOf(image(), 9, 64);
    expect(decodeTemplate(encodeTemplate(t))).toEqual(t);
  });

  it('refuses any truncated or changed descriptor rather than throwing', () => {
    const bytes = encodeTemplate(templateOf(image(), 5, 64));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.boolean(), (at, x, cut) => {
        const b = cut ? bytes.slice(0, at) : bytes.slice();
        if (!cut) b[at] ^= x;
        const d = decodeTemplate(b);
        if (d !== null) for (const a of d.areas) expect(a.start % PAGE === 0 && a.size % PAGE === 0 && a.size > 0).toBe(true);
      }),
      { seed: 2, numRuns: 500 },
    );
  });
});
