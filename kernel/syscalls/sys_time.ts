// Time and scheduling calls: nanosleep (the APIC timer wakes the thread),
// clock_gettime (simulated time since boot), sched_yield.

import { fail } from '../errno.ts';
import { MAX_TIME_PS } from '../../hw/time.ts';
import { type KPath, block, step } from '../step.ts';
import { copyin, copyout, i64bytes } from '../uaccess.ts';
import { type SyscallCtx, argInt, argPtr } from './context.ts';
import { FLAGS } from './table.ts';

const { CLOCK_REALTIME, CLOCK_MONOTONIC } = FLAGS;

/** Reads a struct timespec and returns its length in picoseconds. */
export function* readTimespec(c: SyscallCtx, va: number): KPath<number> {
  const b = yield* copyin(c.k, c.cpu, c.p, va, 16);
  const dv = new DataView(b.buffer);
  const sec = dv.getBigInt64(0, true);
  const nsec = dv.getBigInt64(8, true);
  if (sec < 0n || nsec < 0n || nsec >= 1_000_000_000n) fail('EINVAL', 'timespec out of range');
  const ps = sec * 1_000_000_000_000n + nsec * 1000n;
  if (ps > BigInt(MAX_TIME_PS - c.k.engine.now)) fail('EINVAL', 'timespec beyond the end of simulated time');
  return Number(ps);
}

export function* sys_nanosleep(c: SyscallCtx): KPath<number> {
  const ps = yield* readTimespec(c, argPtr(c, 0));
  const at = c.k.engine.now + ps;
  yield step('timer', 'sleep', c.k.profile.values['kernel.syscallWorkCycles'], `${ps / 1000} ns`);
  c.k.sleepUntil(c.t, at, 'sleep', function* (k, cpu) {
    yield* k.wake(c.t, 'timer', cpu);
  });
  yield* block();
  return 0;
}

export function* sys_clock_gettime(c: SyscallCtx): KPath<number> {
  const clock = argInt(c, 0);
  if (clock !== CLOCK_REALTIME && clock !== CLOCK_MONOTONIC) fail('EINVAL', `unknown clock ${clock}`);
  const now = c.k.engine.now;
  const sec = Math.floor(now / 1e12);
  const nsec = Math.floor((now - sec * 1e12) / 1000);
  yield* copyout(c.k, c.cpu, c.p, argPtr(c, 1), i64bytes(sec, nsec));
  return 0;
}

export function* sys_sched_yield(c: SyscallCtx): KPath<number> {
  yield step('sched', 'yield', c.k.profile.values['kernel.syscallWorkCycles'], `${c.cpu.runQueue.length} waiting`);
  if (c.cpu.runQueue.length === 0) return 0;
  // Go to the back of the queue; the block hands the core to the next thread.
  c.t.state = 'runnable';
  c.cpu.runQueue.push(c.t);
  yield* block();
  return 0;
}

export function* sys_lwk_sched_urgent(c: SyscallCtx): KPath<number> {
  c.t.urgent = argInt(c, 0) !== 0;
  yield step('sched', 'urgent', c.k.profile.values['kernel.syscallWorkCycles'], `tid ${c.t.tid} ${c.t.urgent ? 'urgent' : 'normal'}`);
  return 0;
}
