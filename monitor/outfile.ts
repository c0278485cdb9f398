// Output files named on the command line (--trace, image -o, sweep -o and
// --svg): checked before any work starts, so a missing folder or a directory
// is a one-line usage error rather than a host exception after a long sweep.

import { W_OK } from 'node:constants';
import { accessSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './args.ts';

function kind(path: string): 'file' | 'dir' | 'other' | null {
  try {
    const st = statSync(path);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch {
    return null;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Throws a UsageError naming `flag` unless `file` can be created or overwritten. */
export function writableFile(file: string, flag: string): void {
  const at = resolve(file);
  const k = kind(at);
  if (k === 'dir') throw new UsageError(`${flag}: ${file} is a directory: name a file in it`);
  if (k !== null) {
    if (!writable(at)) throw new UsageError(`${flag}: cannot write ${file}: permission denied`);
    return;
  }
  const dir = dirname(at);
  const dk = kind(dir);
  if (dk === null) throw new UsageError(`${flag}: cannot write ${file}: no such folder ${dirname(file)}`);
  if (dk !== 'dir') throw new UsageError(`${flag}: cannot write ${file}: ${dirname(file)} is not a folder`);
  if (!writable(dir)) throw new UsageError(`${flag}: cannot write ${file}: permission denied in ${dirname(file)}`);
}

/** Writes `file`, turning a failure the check could not foresee into a usage error. */
export function writeOutput(file: string, flag: string, data: string | Uint8Array): void {
  writableFile(file, flag);
  try {
    writeFileSync(file, data);
  } catch (e) {
    throw new UsageError(`${flag}: cannot write ${file}: ${(e as Error).message}`);
  }
}
