// futex(2): FUTEX_WAIT blocks while the word holds the expected value
// (optionally with a relative timeout); FUTEX_WAKE wakes up to n waiters.

import { fail } from '../errno.ts';
import { type KPath, block, step } from '../step.ts';
import { copyin } from '../uaccess.ts';
import { type SyscallCtx, argInt, argPtr, argSize } from './context.ts';
import { readTimespec } from './sys_time.ts';
import { FLAGS } from './table.ts';

const { FUTEX_WAIT, FUTEX_WAKE, FUTEX_PRIVATE_FLAG } = FLAGS;

export function* sys_futex(c: SyscallCtx): KPath<number> {
  const uaddr = argPtr(c, 0);
  const op = argInt(c, 1) & ~FUTEX_PRIVATE_FLAG;
  const val = Number(c.args[2] & 0xffffffffn);
  if (uaddr % 4 !== 0) fail('EINVAL', 'futex word must be 4-byte aligned');
  const work = c.k.profile.values['kernel.syscallWorkCycles'];
  if (op === FUTEX_WAKE) {
    const n = Math.min(argSize(c, 2), 1 << 30);
    const woken = c.k.futex.take(c.p.aspace, uaddr, n);
    yield step('futex', 'wake', work, `0x${uaddr.toString(16)} ${woken.length} woken`);
    for (const t of woken) yield* c.k.wake(t, 'woken', c.cpu);
    return woken.length;
  }
  if (op !== FUTEX_WAIT) fail('ENOSYS', `futex op ${op}`);
  const word = yield* copyin(c.k, c.cpu, c.p, uaddr, 4);
  const current = new DataView(word.buffer).getUint32(0, true);
  if (current !== val) fail('EAGAIN');
  const timeoutPtr = argPtr(c, 3);
  const timeout = timeoutPtr === 0 ? -1 : yield* readTimespec(c, timeoutPtr);
  c.k.futex.enqueue(c.p.aspace, uaddr, c.t);
  if (timeout >= 0) {
    const t = c.t;
    c.k.sleepUntil(t, c.k.engine.now + timeout, 'futex-timeout', function* (k, cpu) {
      if (k.futex.remove(t.process.aspace, uaddr, t)) yield* k.wake(t, 'timeout', cpu);
    });
  }
  yield step('futex', 'wait', work, `0x${uaddr.toString(16)} == ${val}`);
  const why = yield* block();
  if (why === 'timeout') fail('ETIMEDOUT');
  return 0;
}
