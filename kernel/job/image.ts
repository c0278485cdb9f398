// Executable images: ELF64 files with real bytes, written by `margay image`
// and the launcher, read by the kernel's loader (one format, one file, as
// Kitten shares its ELF loader between kernel and user space).
//
// An image has an ELF header, three program headers (PT_LOAD text R+X,
// PT_LOAD data RW whose memsz - filesz is the BSS, PT_NOTE) and a note
// "Margay" naming the program and carrying the SHA-256 of the whole file
// with the hash's own 32 bytes taken as zero: every header field, the name,
// the sizes, the entry point and the segments are covered, so no change to
// what runs can pass (a flip in padding is caught too). The entry point must
// be the start of the text: the kernel starts every program there (crt0,
// ENTRY_START), so any other value would be checked and then ignored. The
// parser checks every field it relies on and returns a precise reason for
// the first thing wrong; it never throws on any input.

import { createHash } from 'node:crypto';
import { ENTRY_START, LAYOUT } from '../abi.ts';

export const ELF_HEADER_BYTES = 64;
export const PHDR_BYTES = 56;
const PT_LOAD = 1;
const PT_NOTE = 4;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
const ET_EXEC = 2;
const EM_X86_64 = 62;
const NOTE_NAME = 'Margay';
const NT_MARGAY_PROGRAM = 1;
const PAGE = 4096;
/** Largest image the loader accepts. */
export const MAX_IMAGE_BYTES = 64 * 1024 * 1024;
const MAX_NAME = 64;

export interface ImageContents {
  readonly name: string;
  readonly text: Uint8Array;
  /** Memory size of text (at least text.length). */
  readonly textBytes: number;
  readonly data: Uint8Array;
  /** Memory size of data (at least data.length). */
  readonly dataBytes: number;
  readonly bssBytes: number;
}

export interface ParsedImage extends ImageContents {
  readonly entry: number;
  readonly textVa: number;
  readonly dataVa: number;
  /** SHA-256 of the image with the hash field zeroed, hex (what the note claims and the file has). */
  readonly hash: string;
  /** SHA-256 of the text bytes alone: the key the kernel finds the code by. */
  readonly textHash: string;
}

export type ImageResult = { readonly ok: true; readonly image: ParsedImage } | { readonly ok: false; readonly reason: string };

export function sha256(...parts: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

const pageUp = (n: number) => Math.ceil(n / PAGE) * PAGE;
const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** Writes an ELF64 executable for `c`. */
export function buildImage(c: ImageContents): Uint8Array {
  const name = new TextEncoder().encode(c.name);
  if (name.length === 0 || name.length > MAX_NAME) throw new RangeError(`program name must be 1..${MAX_NAME} bytes`);
  const textMem = pageUp(Math.max(c.textBytes, c.text.length, 1));
  const dataMem = Math.max(c.dataBytes, c.data.length);
  const textVa = LAYOUT.TEXT_BASE;
  const dataVa = textVa + textMem;
  const desc = new Uint8Array(4 + align(name.length, 4) + 32);
  new DataView(desc.buffer).setUint32(0, name.length, true);
  desc.set(name, 4);
  const noteName = new TextEncoder().encode(NOTE_NAME + '\0');
  const note = new Uint8Array(12 + align(noteName.length, 4) + desc.length);
  const nv = new DataView(note.buffer);
  nv.setUint32(0, noteName.length, true);
  nv.setUint32(4, desc.length, true);
  nv.setUint32(8, NT_MARGAY_PROGRAM, true);
  note.set(noteName, 12);
  note.set(desc, 12 + align(noteName.length, 4));

  const textOff = align(ELF_HEADER_BYTES + 3 * PHDR_BYTES, 16);
  const dataOff = align(textOff + c.text.length, 16);
  const noteOff = align(dataOff + c.data.length, 16);
  const out = new Uint8Array(noteOff + note.length);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  dv.setUint16(16, ET_EXEC, true);
  dv.setUint16(18, EM_X86_64, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, BigInt(ENTRY_START), true);
  dv.setBigUint64(32, BigInt(ELF_HEADER_BYTES), true);
  dv.setUint16(52, ELF_HEADER_BYTES, true);
  dv.setUint16(54, PHDR_BYTES, true);
  dv.setUint16(56, 3, true);
  dv.setUint16(58, 64, true);
  const phdr = (i: number, type: number, flags: number, off: number, va: number, filesz: number, memsz: number, alignment: number) => {
    const at = ELF_HEADER_BYTES + i * PHDR_BYTES;
    dv.setUint32(at, type, true);
    dv.setUint32(at + 4, flags, true);
    dv.setBigUint64(at + 8, BigInt(off), true);
    dv.setBigUint64(at + 16, BigInt(va), true);
    dv.setBigUint64(at + 24, BigInt(va), true);
    dv.setBigUint64(at + 32, BigInt(filesz), true);
    dv.setBigUint64(at + 40, BigInt(memsz), true);
    dv.setBigUint64(at + 48, BigInt(alignment), true);
  };
  phdr(0, PT_LOAD, PF_R | PF_X, textOff, textVa, c.text.length, textMem, 16);
  phdr(1, PT_LOAD, PF_R | PF_W, dataOff, dataVa, c.data.length, dataMem + c.bssBytes, 16);
  phdr(2, PT_NOTE, PF_R, noteOff, 0, note.length, 0, 4);
  out.set(c.text, textOff);
  out.set(c.data, dataOff);
  out.set(note, noteOff);
  // The hash is the note's last 32 bytes; it is computed over the file with them still zero.
  out.set(Buffer.from(sha256(out), 'hex'), out.length - 32);
  return out;
}

interface Phdr {
  type: number;
  flags: number;
  offset: number;
  va: number;
  filesz: number;
  memsz: number;
}

/** Parses and validates an image; the first problem found is the reason. */
export function parseImage(b: Uint8Array): ImageResult {
  const bad = (reason: string): ImageResult => ({ ok: false, reason });
  if (b.length < ELF_HEADER_BYTES) return bad(`truncated: ${b.length} bytes, an ELF header needs ${ELF_HEADER_BYTES}`);
  if (b.length > MAX_IMAGE_BYTES) return bad(`too large: ${b.length} bytes (at most ${MAX_IMAGE_BYTES})`);
  if (b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) return bad('not an ELF file (bad magic)');
  if (b[4] !== 2) return bad(`not a 64-bit ELF (class ${b[4]})`);
  if (b[5] !== 1) return bad(`not little-endian (data encoding ${b[5]})`);
  if (b[6] !== 1) return bad(`unknown ELF version ${b[6]}`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u64 = (at: number) => {
    const v = dv.getBigUint64(at, true);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  };
  const type = dv.getUint16(16, true);
  if (type !== ET_EXEC) return bad(`not an executable (e_type ${type})`);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_X86_64) return bad(`machine ${machine} is not x86-64 (62)`);
  const entry = u64(24);
  const phoff = u64(32);
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phentsize !== PHDR_BYTES) return bad(`program header size ${phentsize}, expected ${PHDR_BYTES}`);
  if (phnum === 0 || phnum > 16) return bad(`${phnum} program headers (1..16 accepted)`);
  if (phoff + phnum * PHDR_BYTES > b.length) return bad(`truncated: program headers end at ${phoff + phnum * PHDR_BYTES}, file has ${b.length} bytes`);
  const phdrs: Phdr[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * PHDR_BYTES;
    const p: Phdr = { type: dv.getUint32(at, true), flags: dv.getUint32(at + 4, true), offset: u64(at + 8), va: u64(at + 16), filesz: u64(at + 32), memsz: u64(at + 40) };
    if (p.offset + p.filesz > b.length) return bad(`truncated: segment ${i} needs bytes up to ${p.offset + p.filesz}, file has ${b.length}`);
    if (p.type === PT_LOAD && p.memsz < p.filesz) return bad(`segment ${i}: memory size ${p.memsz} is smaller than file size ${p.filesz}`);
    phdrs.push(p);
  }
  const loads = phdrs.filter((p) => p.type === PT_LOAD);
  const text = loads.find((p) => p.flags & PF_X);
  const data = loads.find((p) => !(p.flags & PF_X) && p.flags & PF_W);
  if (loads.length !== 2 || text === undefined || data === undefined) return bad('expected two PT_LOAD segments: text (R+X) and data (RW)');
  if (text.flags & PF_W) return bad('text segment is writable');
  if (text.va !== LAYOUT.TEXT_BASE) return bad(`text must load at 0x${LAYOUT.TEXT_BASE.toString(16)}, not 0x${text.va.toString(16)}`);
  if (text.memsz > 1 << 30 || data.memsz > 1 << 30) return bad('a segment is larger than 1 GiB');
  if (data.va !== text.va + pageUp(text.memsz)) return bad(`data must follow text at 0x${(text.va + pageUp(text.memsz)).toString(16)}, not 0x${data.va.toString(16)}`);
  if (entry < text.va || entry >= text.va + text.memsz) return bad(`entry point 0x${entry.toString(16)} is outside the text segment`);
  if (entry !== ENTRY_START) return bad(`entry point 0x${entry.toString(16)} is not the start of the text (0x${ENTRY_START.toString(16)}), where every program begins`);
  const noteHdr = phdrs.find((p) => p.type === PT_NOTE);
  if (noteHdr === undefined) return bad('no PT_NOTE segment (the Margay note names the program and its hash)');
  const note = parseNote(b.subarray(noteHdr.offset, noteHdr.offset + noteHdr.filesz));
  if (typeof note === 'string') return bad(note);
  const unhashed = b.slice();
  unhashed.fill(0, noteHdr.offset + note.hashAt, noteHdr.offset + note.hashAt + 32);
  const hash = sha256(unhashed);
  if (hash !== note.hash) return bad(`content hash mismatch: the note says ${note.hash.slice(0, 16)}..., the image hashes to ${hash.slice(0, 16)}... (image corrupted)`);
  const textBytes = b.slice(text.offset, text.offset + text.filesz);
  const dataBytes = b.slice(data.offset, data.offset + data.filesz);
  return {
    ok: true,
    image: {
      name: note.name,
      entry,
      textVa: text.va,
      dataVa: data.va,
      text: textBytes,
      textBytes: text.memsz,
      data: dataBytes,
      dataBytes: data.filesz,
      bssBytes: data.memsz - data.filesz,
      hash,
      textHash: sha256(textBytes),
    },
  };
}

/** The note's program name and hash, and where the hash sits in the note. */
function parseNote(n: Uint8Array): { name: string; hash: string; hashAt: number } | string {
  if (n.length < 12) return 'note too short';
  const dv = new DataView(n.buffer, n.byteOffset, n.byteLength);
  const namesz = dv.getUint32(0, true);
  const descsz = dv.getUint32(4, true);
  const type = dv.getUint32(8, true);
  const nameEnd = 12 + align(namesz, 4);
  if (namesz > 64 || nameEnd + descsz > n.length) return 'note fields run past the note';
  if (new TextDecoder().decode(n.subarray(12, 12 + namesz)) !== NOTE_NAME + '\0' || type !== NT_MARGAY_PROGRAM) return 'no Margay program note';
  const desc = n.subarray(nameEnd, nameEnd + descsz);
  if (desc.length < 4) return 'note description too short';
  const len = new DataView(desc.buffer, desc.byteOffset, desc.byteLength).getUint32(0, true);
  if (len === 0 || len > MAX_NAME || 4 + align(len, 4) + 32 > desc.length) return `note names a program of ${len} bytes (1..${MAX_NAME})`;
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(desc.subarray(4, 4 + len));
  } catch {
    return 'program name in the note is not UTF-8';
  }
  const at = 4 + align(len, 4);
  const hash = Buffer.from(desc.subarray(at, at + 32)).toString('hex');
  return { name, hash, hashAt: nameEnd + at };
}
