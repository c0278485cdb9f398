// The code catalog: how a loaded image's bytes become running code. Margay's
// user programs are TypeScript generators, not machine code, so the machine
// keeps a catalog from the SHA-256 of a program's text bytes to its code.
// The loader looks an image's text up here after checking the image's hash:
// a corrupted or unknown text finds nothing and cannot run.

import type { UserCode, UserProgram } from '../abi.ts';
import { sha256 } from './image.ts';

export class CodeCatalog {
  private readonly byTextHash = new Map<string, UserProgram>();

  /** Registers a program (it must carry its text bytes); returns its text hash. */
  register(program: UserProgram): string {
    if (program.text === undefined) throw new Error(`program ${program.name} has no text bytes to register`);
    const h = sha256(program.text);
    this.byTextHash.set(h, program);
    return h;
  }

  /** Fresh code for a process whose text hashes to `textHash`, or null. */
  instantiate(textHash: string): UserCode | null {
    return this.byTextHash.get(textHash)?.instantiate() ?? null;
  }

  get size(): number {
    return this.byTextHash.size;
  }
}
