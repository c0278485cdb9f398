// The address-space template a remote task is created from (seed 002,
// section 3: "an address space is described by the state of each VM area
// (starting address, size, pager capability)"). It is made from a job's
// ELF image: text and data are backed by the image and paged in copy on
// reference; bss is zero-fill (no paging path); `vmAreas` beyond those three
// are further one-page areas in a sparse part of the address space, each
// backed by its own object at the source, as the seed's Figure 9 varies them.
// The descriptor travels in creation messages; the pages never do until a
// task touches them.

import { LAYOUT } from '../abi.ts';
import type { ParsedImage } from '../job/image.ts';

export const PAGE = 4096;
/** The image's own areas: text, data, bss. */
export const IMAGE_AREAS = 3;
/** Most areas a template may have. */
export const MAX_VM_AREAS = 1024;
/** Where the further areas go: one page each, a page apart, so each is its own area. */
export const EXTRA_AREAS_BASE = LAYOUT.RTASK_AREAS_BASE;

export type AreaKind = 'text' | 'data' | 'bss' | 'extra';
const KIND_CODE: Readonly<Record<AreaKind, number>> = { text: 0, data: 1, bss: 2, extra: 3 };
const KINDS: readonly AreaKind[] = ['text', 'data', 'bss', 'extra'];

export interface Area {
  readonly index: number;
  readonly kind: AreaKind;
  readonly start: number;
  readonly size: number;
  readonly writable: boolean;
  /** Paged in copy on reference from the pager (false: zero-fill, no paging path). */
  readonly cor: boolean;
}

export interface TemplateDesc {
  readonly name: string;
  /** The key the kernel finds the program's code by (kernel/job/codecatalog.ts). */
  readonly textHash: string;
  readonly textBytes: number;
  readonly dataBytes: number;
  readonly bssBytes: number;
  readonly areas: readonly Area[];
}

const pages = (n: number) => Math.max(PAGE, Math.ceil(n / PAGE) * PAGE);

/** The template of `image` with `vmAreas` areas in all (at least the image's three). */
export function templateOf(image: ParsedImage, vmAreas: number, jobBlockBytes: number): TemplateDesc {
  const textSize = pages(Math.max(image.textBytes, image.text.length));
  const dataSize = pages(image.dataBytes);
  const areas: Area[] = [
    { index: 0, kind: 'text', start: LAYOUT.TEXT_BASE, size: textSize, writable: false, cor: true },
    { index: 1, kind: 'data', start: LAYOUT.TEXT_BASE + textSize, size: dataSize, writable: true, cor: true },
    { index: 2, kind: 'bss', start: LAYOUT.TEXT_BASE + textSize + dataSize, size: pages(image.bssBytes + jobBlockBytes), writable: true, cor: false },
  ];
  for (let i = IMAGE_AREAS; i < vmAreas; i++) {
    areas.push({ index: i, kind: 'extra', start: EXTRA_AREAS_BASE + 2 * PAGE * (i - IMAGE_AREAS), size: PAGE, writable: true, cor: true });
  }
  return { name: image.name, textHash: image.textHash, textBytes: image.textBytes, dataBytes: image.dataBytes, bssBytes: image.bssBytes, areas };
}

/** The bytes area `a` holds in the source (text and data from the image; an extra area a pattern naming it). */
export function sourceBytes(image: ParsedImage, a: Area): Uint8Array {
  const out = new Uint8Array(a.size);
  if (a.kind === 'text') out.set(image.text.subarray(0, a.size));
  else if (a.kind === 'data') out.set(image.data.subarray(0, a.size));
  else if (a.kind === 'extra') out.fill(a.index & 0xff);
  return out;
}

/** Pages of `a` a task pages in (0 for zero-fill). */
export function corPages(a: Area): number {
  return a.cor ? a.size / PAGE : 0;
}

// ---- the descriptor on the wire: f64 words, then name and text hash ---------

const HEAD_WORDS = 6;
const AREA_WORDS = 5;

export function encodeTemplate(t: TemplateDesc): Uint8Array {
  const enc = new TextEncoder();
  const name = enc.encode(t.name);
  const hash = enc.encode(t.textHash);
  const words = HEAD_WORDS + AREA_WORDS * t.areas.length;
  const b = new Uint8Array(8 * words + name.length + hash.length);
  const dv = new DataView(b.buffer);
  const head = [t.areas.length, t.textBytes, t.dataBytes, t.bssBytes, name.length, hash.length];
  head.forEach((v, i) => dv.setFloat64(8 * i, v, true));
  t.areas.forEach((a, i) => {
    const w = [KIND_CODE[a.kind], a.start, a.size, a.writable ? 1 : 0, a.cor ? 1 : 0];
    w.forEach((v, j) => dv.setFloat64(8 * (HEAD_WORDS + AREA_WORDS * i + j), v, true));
  });
  b.set(name, 8 * words);
  b.set(hash, 8 * words + name.length);
  return b;
}

/** Decodes a descriptor, or null when it is malformed (a kernel never throws on wire data). */
export function decodeTemplate(b: Uint8Array): TemplateDesc | null {
  if (b.length < 8 * HEAD_WORDS) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const w = (i: number) => dv.getFloat64(8 * i, true);
  const n = w(0);
  const nameLen = w(4);
  const hashLen = w(5);
  const ok = (x: number) => Number.isSafeInteger(x) && x >= 0;
  if (![n, w(1), w(2), w(3), nameLen, hashLen].every(ok) || n > MAX_VM_AREAS) return null;
  const words = HEAD_WORDS + AREA_WORDS * n;
  if (b.length !== 8 * words + nameLen + hashLen) return null;
  const areas: Area[] = [];
  for (let i = 0; i < n; i++) {
    const base = HEAD_WORDS + AREA_WORDS * i;
    const kind = KINDS[w(base)];
    const start = w(base + 1);
    const size = w(base + 2);
    if (kind === undefined || !ok(start) || !ok(size) || size === 0 || start % PAGE !== 0 || size % PAGE !== 0) return null;
    areas.push({ index: i, kind, start, size, writable: w(base + 3) === 1, cor: w(base + 4) === 1 });
  }
  const dec = new TextDecoder();
  const name = dec.decode(b.subarray(8 * words, 8 * words + nameLen));
  const textHash = dec.decode(b.subarray(8 * words + nameLen));
  return { name, textHash, textBytes: w(1), dataBytes: w(2), bssBytes: w(3), areas };
}
