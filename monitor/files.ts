// Files the user names. Reading (an image, a program, a config, a script)
// is bounded: the file is opened without blocking, refused unless it is a
// regular file, and read only up to the limit, so /dev/zero, a FIFO or a
// huge file cost nothing and get one clear line instead of growing memory.
// Writing (an image, a sweep's JSON or SVG) fails with one line too.

import { closeSync, constants, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import { UsageError } from './args.ts';

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

/** Writes `data` to `path`, or a UsageError saying why not. */
export function writeUserFile(path: string, data: string | Uint8Array): void {
  asUserFile(path, 'write', () => writeFileSync(path, data));
}

/** Runs `f`, which opens `path`; a file-system error becomes a one-line UsageError. */
export function asUserFile<T>(path: string, verb: 'read' | 'write', f: () => T): T {
  try {
    return f();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === undefined) throw e;
    throw new UsageError(`cannot ${verb} ${path}: ${WHY[code] ?? (e as Error).message.split('\n')[0]}`);
  }
}

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
