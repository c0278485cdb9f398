// The console driver: registers write(2) at boot (Kitten's drivers call
// syscall_register the same way). Output to fd 1 and 2 is kept per process.

import { fail } from './errno.ts';
import type { Kernel } from './kernel.ts';
import { type KPath, step } from './step.ts';
import { type SyscallCtx, argInt, argPtr, argSize } from './syscalls/context.ts';
import { copyin } from './uaccess.ts';

/** Bytes one write(2) takes; a longer write is partial, as POSIX allows. */
const MAX_WRITE = 1024 * 1024;

const decoder = new TextDecoder();

function* sys_write(c: SyscallCtx): KPath<number> {
  const fd = argInt(c, 0);
  const buf = argPtr(c, 1);
  const count = Math.min(argSize(c, 2), MAX_WRITE);
  if (fd !== 1 && fd !== 2) fail('EBADF', `fd ${fd} is not open for writing`);
  const bytes = yield* copyin(c.k, c.cpu, c.p, buf, count);
  c.k.console(c.p, fd, decoder.decode(bytes));
  yield step('console', 'write', 50, `fd ${fd} ${count} B`);
  return count;
}

export function registerConsole(k: Kernel): void {
  k.registerSyscall('write', sys_write);
}
