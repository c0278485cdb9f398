// Loading eBPF from ELF objects made by `clang -target bpf -c`: the code of
// one program section plus the functions it calls in other executable
// sections (.text), with R_BPF_64_32 call relocations resolved into
// PC-relative local calls. Maps and global data (R_BPF_64_64) are refused.
// Every field is bounds-checked and every field the loader relies on is
// checked (object type, version, OS ABI, section types, relocation links):
// a malformed object is an ElfError, never a host exception.

export class ElfError extends Error {
  constructor(message: string) {
    super(`ELF: ${message}`);
    this.name = 'ElfError';
  }
}

const EM_BPF = 247;
const ET_REL = 1;
const EV_CURRENT = 1;
const ELFOSABI_SYSV = 0;
const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;
const SHT_REL = 9;
const SHF_EXECINSTR = 0x4;
const R_BPF_64_64 = 1;
const R_BPF_64_32 = 10;

interface Section {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly entsize: number;
}

export interface ElfProgram {
  /** Program sections found (those with executable code other than .text). */
  readonly sections: string[];
  readonly section: string;
  /** Bytecode ready for the verifier. */
  readonly bytes: Uint8Array;
}

function parse(buf: Uint8Array): { sections: Section[]; dv: DataView } {
  if (buf.length < 64) throw new ElfError(`${buf.length} bytes is too short for an ELF header`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0) !== 0x7f454c46) throw new ElfError('not an ELF file (bad magic)');
  if (buf[4] !== 2) throw new ElfError('not a 64-bit ELF object');
  if (buf[5] !== 1) throw new ElfError('not little-endian');
  if (buf[6] !== EV_CURRENT) throw new ElfError(`ELF version ${buf[6]} in the identification (expected ${EV_CURRENT})`);
  if (buf[7] !== ELFOSABI_SYSV) throw new ElfError(`OS ABI ${buf[7]} (expected System V, 0)`);
  const type = dv.getUint16(16, true);
  if (type !== ET_REL) throw new ElfError(`e_type ${type} is not a relocatable object (${ET_REL})`);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_BPF) throw new ElfError(`machine ${machine} is not BPF (247)`);
  const version = dv.getUint32(20, true);
  if (version !== EV_CURRENT) throw new ElfError(`ELF version ${version} (expected ${EV_CURRENT})`);
  const shoff = Number(dv.getBigUint64(40, true));
  const shentsize = dv.getUint16(58, true);
  const shnum = dv.getUint16(60, true);
  const shstrndx = dv.getUint16(62, true);
  if (shentsize !== 64) throw new ElfError(`section header size ${shentsize} (expected 64)`);
  if (shoff + shnum * 64 > buf.length) throw new ElfError('section headers run past the end of the file');
  const raw = Array.from({ length: shnum }, (_, i) => {
    const o = shoff + 64 * i;
    const s = {
      index: i,
      nameOff: dv.getUint32(o, true),
      type: dv.getUint32(o + 4, true),
      flags: Number(dv.getBigUint64(o + 8, true)),
      offset: Number(dv.getBigUint64(o + 24, true)),
      size: Number(dv.getBigUint64(o + 32, true)),
      link: dv.getUint32(o + 40, true),
      info: dv.getUint32(o + 44, true),
      entsize: Number(dv.getBigUint64(o + 56, true)),
    };
    if (s.type !== SHT_NOBITS && s.offset + s.size > buf.length) throw new ElfError(`section ${i} runs past the end of the file`);
    return s;
  });
  const strtab = raw[shstrndx];
  if (strtab === undefined) throw new ElfError('no section-name string table');
  const sections = raw.map((s) => ({ ...s, name: cstr(buf, strtab.offset + s.nameOff, strtab.offset + strtab.size) }));
  return { sections, dv };
}

function cstr(buf: Uint8Array, at: number, end: number): string {
  let e = at;
  while (e < end && e < buf.length && buf[e] !== 0) e++;
  if (e >= end) throw new ElfError('unterminated string in a string table');
  return new TextDecoder().decode(buf.subarray(at, e));
}

/** Extracts program `name` (default: the first program section) with its callees. */
export function loadElf(buf: Uint8Array, name?: string): ElfProgram {
  const { sections, dv } = parse(buf);
  const code = sections.filter((s) => (s.flags & SHF_EXECINSTR) !== 0 && s.size > 0);
  // Code is copied from the file: it must be there (a NOBITS section has no bytes in the file).
  for (const s of code) if (s.type !== SHT_PROGBITS) throw new ElfError(`section ${s.index} (${s.name}) holds code but is not PROGBITS (type ${s.type})`);
  const programs = code.filter((s) => s.name !== '.text').map((s) => s.name);
  const entryName = name ?? programs[0] ?? '.text';
  const entry = code.find((s) => s.name === entryName);
  if (entry === undefined) throw new ElfError(`no program section '${entryName}' (found: ${programs.join(', ') || 'none'})`);
  // Lay out: the entry section first, then every other executable section it may call.
  const layout: Section[] = [entry, ...code.filter((s) => s !== entry)];
  const base = new Map<number, number>();
  let total = 0;
  for (const s of layout) {
    if (s.size % 8 !== 0) throw new ElfError(`section ${s.name} is not a whole number of instructions`);
    // Code must be bytes in the file: a NOBITS code section has none (and its offset may lie past the end).
    if (s.type === 8 /* NOBITS */) throw new ElfError(`code section ${s.name} has no bytes in the file (SHT_NOBITS)`);
    base.set(s.index, total / 8);
    total += s.size;
  }
  const out = new Uint8Array(total);
  for (const s of layout) out.set(new Uint8Array(dv.buffer, dv.byteOffset + s.offset, s.size), base.get(s.index)! * 8);
  const odv = new DataView(out.buffer);
  for (const rel of sections.filter((s) => s.type === SHT_REL)) {
    const target = sections[rel.info];
    if (target === undefined) throw new ElfError(`relocation section ${rel.index} applies to section ${rel.info}, which does not exist`);
    if (!base.has(target.index)) continue;
    const symtab = sections[rel.link];
    if (symtab === undefined || symtab.type !== SHT_SYMTAB) throw new ElfError(`relocation section ${rel.index} links to section ${rel.link}, which is not a symbol table`);
    if (rel.size % 16 !== 0) throw new ElfError(`relocation section ${rel.index} is not a whole number of entries`);
    for (let o = rel.offset; o + 16 <= rel.offset + rel.size; o += 16) {
      const rOffset = Number(dv.getBigUint64(o, true));
      const info = dv.getBigUint64(o + 8, true);
      const type = Number(info & 0xffffffffn);
      const symIndex = Number(info >> 32n);
      if (rOffset % 8 !== 0 || rOffset + 8 > target.size) throw new ElfError(`relocation at ${rOffset} outside ${target.name}`);
      const pc = base.get(target.index)! + rOffset / 8;
      if (type === R_BPF_64_64) throw new ElfError(`${target.name}+${rOffset}: maps and global data are not supported`);
      if (type !== R_BPF_64_32) throw new ElfError(`${target.name}+${rOffset}: unsupported relocation type ${type}`);
      const so = symtab.offset + 24 * symIndex;
      if (so + 24 > symtab.offset + symtab.size) throw new ElfError(`relocation names symbol ${symIndex}, outside the symbol table`);
      const shndx = dv.getUint16(so + 6, true);
      const value = Number(dv.getBigUint64(so + 8, true));
      if (!base.has(shndx)) throw new ElfError(`call at ${target.name}+${rOffset} to a symbol outside the code`);
      if (value % 8 !== 0) throw new ElfError(`call at ${target.name}+${rOffset} to a symbol in the middle of an instruction`);
      const imm = odv.getInt32(pc * 8 + 4, true);
      // LLVM's convention: the callee is at symbol + (imm + 1) instructions.
      const callee = base.get(shndx)! + value / 8 + imm + 1;
      if (callee < 0 || callee >= total / 8) throw new ElfError(`call at ${target.name}+${rOffset} lands outside the code`);
      odv.setInt32(pc * 8 + 4, callee - (pc + 1), true);
    }
  }
  return { sections: programs, section: entryName, bytes: out };
}
