// Issue 10, item 7: the ELF loader checks what it relies on and refuses
// anything else with an ElfError (never a host RangeError).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ElfError, loadElf } from '../../kernel/ext/elf.ts';

const OBJ = new Uint8Array(readFileSync('test/fixtures/handler.o'));
const SHOFF = Number(new DataView(OBJ.buffer, OBJ.byteOffset).getBigUint64(40, true));
// Section indexes in handler.o: 3 is margay/sum (code), 4 its relocations, 7 the symbol table.
const SUM = 3;
const REL = 4;

function patched(edit: (dv: DataView) => void): Uint8Array {
  const b = OBJ.slice();
  edit(new DataView(b.buffer));
  return b;
}
const sh = (i: number, field: number) => SHOFF + 64 * i + field;

function refusal(b: Uint8Array, name?: string): string {
  try {
    loadElf(b, name);
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(ElfError);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

describe('the ELF loader refuses', () => {
  it('a code section that is NOBITS with its offset past the end of the file', () => {
    const b = patched((dv) => {
      dv.setUint32(sh(SUM, 4), 8, true);
      dv.setBigUint64(sh(SUM, 24), 1_000_000n, true);
    });
    expect(refusal(b, 'margay/sum')).toMatch(/section 3 \(margay\/sum\) holds code but is not PROGBITS/);
  });
  it('an object that is not relocatable', () => {
    expect(refusal(patched((dv) => dv.setUint16(16, 2, true)))).toMatch(/e_type 2 is not a relocatable object \(1\)/);
  });
  it('an unknown ELF version', () => {
    expect(refusal(patched((dv) => dv.setUint8(6, 0)))).toMatch(/ELF version 0/);
    expect(refusal(patched((dv) => dv.setUint32(20, 2, true)))).toMatch(/ELF version 2/);
  });
  it('an OS ABI other than System V', () => {
    expect(refusal(patched((dv) => dv.setUint8(7, 3)))).toMatch(/OS ABI 3/);
  });
  it('a code section of the wrong type', () => {
    expect(refusal(patched((dv) => dv.setUint32(sh(SUM, 4), 7, true)), 'margay/sum')).toMatch(/not PROGBITS/);
  });
  it('relocations linked to something other than a symbol table', () => {
    expect(refusal(patched((dv) => dv.setUint32(sh(REL, 40), 1, true)), 'margay/sum')).toMatch(/relocation section 4 links to section 1, which is not a symbol table/);
    expect(refusal(patched((dv) => dv.setUint32(sh(REL, 40), 99, true)), 'margay/sum')).toMatch(/links to section 99/);
  });
  it('relocations for a section that does not exist', () => {
    expect(refusal(patched((dv) => dv.setUint32(sh(REL, 44), 99, true)), 'margay/sum')).toMatch(/applies to section 99, which does not exist/);
  });
});
