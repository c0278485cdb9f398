// `margay image`: writes a program's ELF64 executable image to a file, or
// checks an image file the way the kernel's loader would.

import { MAX_IMAGE_BYTES, parseImage } from '../../kernel/job/image.ts';
import { UsageError, flag, parse, str } from '../args.ts';
import { imageOf } from '../launch.ts';
import { readBounded, writableFile, writeOutput } from '../files.ts';
import type { Output } from '../output.ts';
import { resolveProgram } from '../programs.ts';

export const HELP = `usage: margay image <app | ./program.ts> -o FILE
       margay image --check FILE [--json]

Writes the program's executable image: an ELF64 x86-64 file with a text
and a data PT_LOAD segment (BSS as memsz beyond filesz) and a note naming
the program and the SHA-256 of the whole image. With --check, reads FILE and
prints what the loader finds in it, or the precise reason it would refuse
it (exit code 1).

  -o, --output FILE  where to write the image
  --check FILE       validate an image file
  --json             with --check: print the result as JSON`;

export async function run(argv: string[], out: Output): Promise<number> {
  const p = parse(argv, { output: { type: 'string', short: 'o' }, check: { type: 'string' }, json: { type: 'boolean' } }, 1);
  const check = str(p, 'check');
  if (check !== undefined) {
    const r = parseImage(readBounded(check, MAX_IMAGE_BYTES));
    const doc = r.ok
      ? { ok: true, name: r.image.name, entry: r.image.entry, text_bytes: r.image.text.length, text_memory_bytes: r.image.textBytes, data_bytes: r.image.dataBytes, bss_bytes: r.image.bssBytes, sha256: r.image.hash }
      : { ok: false, reason: r.reason };
    if (flag(p, 'json')) out.json(doc);
    else if (r.ok) out.say(`${check}: ELF64 x86-64 executable '${r.image.name}', entry 0x${r.image.entry.toString(16)}, text ${r.image.text.length} B (${r.image.textBytes} B in memory), data ${r.image.dataBytes} B, bss ${r.image.bssBytes} B, sha256 ${r.image.hash}`);
    else out.say(`${check}: refused: ${r.reason}`);
    return r.ok ? 0 : 1;
  }
  const name = p.positionals[0];
  const file = str(p, 'output');
  if (name === undefined || file === undefined) throw new UsageError('name a program and an output file (margay image hello -o hello.elf)');
  writableFile(file, '-o');
  const img = imageOf(await resolveProgram(name));
  writeOutput(file, '-o', img);
  out.say(`wrote ${file}: ${img.length} bytes`);
  return 0;
}
