// Files the user names. Reading (an image, a program, a config, a script)
// is bounded: the file is opened without blocking, refused unless it is a
// regular file, and read only up to the limit, so /dev/zero, a FIFO or a
// huge file cost nothing and get one clear line instead of growing memory.
// Writing (--trace, an image, a sweep's JSON or SVG) is checked before any
// work starts, so a missing folder or a directory is a one-line usage error
// rather than a host exception after a long sweep.

import { W_OK } from 'node:constants';
import { accessSync, closeSync, constants, fstatSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './args.ts';

/** The largest monitor script read (--script, replay). */
export const MAX_SCRIPT_BYTES = 4 * 1024 * 1024;

const WHY: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'no such file',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'name too long',
  EISDIR: 'a directory',
  ENOSPC: 'no space left on the device',
  EROFS: 'a read-only file system',
};

/** Checks that `path` is a regular file of at most `limit` bytes (`what` names it in errors, e.g. "--config x"). */
export function checkFile(path: string, limit: number, what = path): void {
  withFile(path, limit, what, () => undefined);
}

/** The bytes of the regular file `path`, at most `limit` of them, or a UsageError saying why not. */
export function readBounded(path: string, limit: number, what = path): Uint8Array {
  return withFile(path, limit, what, (fd, size) => {
    // Read one byte past the limit: a file that grew since fstat is still refused.
    const buf = new Uint8Array(Math.min(size, limit) + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > limit) throw new UsageError(`cannot read ${what}: more than ${limit} bytes`);
      if (n === buf.length) break;
    }
    return buf.slice(0, n);
  });
}

function withFile<T>(path: string, limit: number, what: string, read: (fd: number, size: number) => T): T {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer must not wait for one.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new UsageError(`cannot read ${what}: ${WHY[code] ?? (e as Error).message.split('\n')[0]}`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new UsageError(`cannot read ${what}: a directory`);
    if (!st.isFile()) throw new UsageError(`cannot read ${what}: not a regular file`);
    if (st.size > limit) throw new UsageError(`cannot read ${what}: more than ${limit} bytes`);
    return read(fd, st.size);
  } finally {
    closeSync(fd);
  }
}

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
