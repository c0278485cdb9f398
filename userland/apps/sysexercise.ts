// sysexercise: calls every system call with good and bad arguments and
// checks the results against the ABI (values and errno). Prints each
// failure and publishes checks_passed / checks_failed.

import { ERRNO, SYS } from '../lib/abi.gen.ts';
import { program } from '../lib/runtime.ts';
import { FUTEX_WAIT, FUTEX_WAKE, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_NONE, PROT_READ, PROT_WRITE } from '../lib/sys.ts';

export default program('sysexercise', function* main(env) {
  const { sys, mem } = env;
  let passed = 0;
  let failed = 0;
  function* check(what: string, got: number, ok: boolean) {
    if (ok) passed++;
    else {
      failed++;
      yield* sys.print(`FAIL ${what}: got ${got}\n`, 2);
    }
  }
  const is = (what: string, got: number, want: number) => check(what, got, got === want);

  yield* check('getpid is positive', yield* sys.getpid(), (yield* sys.getpid()) > 0);
  yield* check('gettid is positive', yield* sys.gettid(), (yield* sys.gettid()) > 0);
  yield* is('unknown syscall 9999', yield* sys.raw(9999), -ERRNO.ENOSYS);
  yield* is('unknown syscall 499', yield* sys.raw(499), -ERRNO.ENOSYS);
  const msg = yield* mem.string('sysexercise: write works\n');
  yield* is('write to stdout', yield* sys.write(1, msg.va, msg.len), msg.len);
  yield* is('write from an unmapped buffer', yield* sys.write(1, 0x10, 4), -ERRNO.EFAULT);
  yield* is('write from a kernel address', yield* sys.raw(SYS.write, 1, 2n ** 63n, 4), -ERRNO.EFAULT);
  yield* is('write to fd 7', yield* sys.write(7, msg.va, 1), -ERRNO.EBADF);
  yield* is('read from the empty console', yield* sys.read(0, msg.va, 8), 0);
  yield* is('read from fd 1', yield* sys.read(1, msg.va, 8), -ERRNO.EBADF);

  yield* is('mmap of length 0', yield* sys.mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS), -ERRNO.EINVAL);
  yield* is('mmap of a file', yield* sys.mmap(0, 4096, PROT_READ, MAP_PRIVATE, 3), -ERRNO.ENODEV);
  yield* is('mmap with bad prot', yield* sys.mmap(0, 4096, 64, MAP_PRIVATE | MAP_ANONYMOUS), -ERRNO.EINVAL);
  const a = yield* sys.mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  yield* check('mmap returns a page-aligned address', a, a > 0 && a % 4096 === 0);
  yield* mem.storeU64(a + 4096, 0x1234n);
  yield* is('mapped memory reads back', Number(yield* mem.loadU64(a + 4096)), 0x1234);
  yield* is('fresh mappings are zeroed', Number(yield* mem.loadU64(a + 8192)), 0);
  yield* is('munmap of the middle page', yield* sys.munmap(a + 4096, 4096), 0);
  yield* is('munmap unaligned', yield* sys.munmap(a + 1, 4096), -ERRNO.EINVAL);
  yield* is('mprotect of an unmapped page', yield* sys.mprotect(a + 4096, 4096, PROT_READ), -ERRNO.ENOMEM);
  yield* is('MAP_FIXED into the hole', yield* sys.mmap(a + 4096, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), a + 4096);
  const big = yield* sys.mmap(0, 4 * 1024 * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  yield* check('a 4 MiB mapping is 2 MiB aligned (huge pages)', big, big > 0 && big % (2 * 1024 * 1024) === 0);

  // A fault handler turns an access to a PROT_NONE page into a counted event and re-opens the page.
  const faults = yield* mem.alloc(8);
  yield* env.onFault(function* (addr) {
    yield* mem.storeU64(faults, (yield* mem.loadU64(faults)) + 1n);
    yield* sys.mprotect(addr - (addr % 4096), 4096, PROT_READ | PROT_WRITE);
  });
  yield* is('mprotect to PROT_NONE', yield* sys.mprotect(a, 4096, PROT_NONE), 0);
  yield* mem.storeU64(a, 7n);
  yield* is('the store faulted once and then went through', Number(yield* mem.loadU64(faults)), 1);
  yield* is('...and wrote its value', Number(yield* mem.loadU64(a)), 7);

  const brk0 = yield* sys.brk(0);
  yield* check('brk(0) reports the break', brk0, brk0 > 0);
  yield* is('brk moves within the reserved heap', yield* sys.brk(brk0 + 65536), brk0 + 65536);
  yield* is('brk refuses to leave the heap', yield* sys.brk(2 ** 46), brk0 + 65536);

  const t0 = yield* sys.clockNs();
  yield* is('nanosleep 1 ms', yield* sys.nanosleep(1_000_000), 0);
  const t1 = yield* sys.clockNs();
  yield* check('the clock advanced by at least 1 ms', t1 - t0, t1 - t0 >= 1_000_000);
  yield* is('clock_gettime with a bad clock', yield* sys.raw(SYS.clock_gettime, 42, a), -ERRNO.EINVAL);
  yield* is('clock_gettime into an unmapped page', yield* sys.raw(SYS.clock_gettime, 1, 8), -ERRNO.EFAULT);
  const ts = yield* mem.alloc(16);
  yield* mem.storeU64(ts + 8, 2_000_000_000);
  yield* is('nanosleep with nsec out of range', yield* sys.raw(SYS.nanosleep, ts, 0), -ERRNO.EINVAL);

  const word = yield* mem.alloc(8);
  yield* mem.storeU32(word, 5);
  yield* is('futex wait on a changed value', yield* sys.futex(word, FUTEX_WAIT, 4), -ERRNO.EAGAIN);
  yield* is('futex wake with no waiters', yield* sys.futex(word, FUTEX_WAKE, 1), 0);
  yield* is('futex on an unaligned word', yield* sys.futex(word + 1, FUTEX_WAIT, 0), -ERRNO.EINVAL);
  const timeout = yield* mem.alloc(16);
  yield* mem.storeU64(timeout + 8, 50_000);
  yield* is('futex wait times out', yield* sys.futex(word, FUTEX_WAIT, 5, timeout), -ERRNO.ETIMEDOUT);
  yield* is('sched_yield', yield* sys.schedYield(), 0);
  yield* is('clone of a process (no CLONE_THREAD)', yield* sys.clone(0x11, 0, 0, 0), -ERRNO.EINVAL);

  // A thread on another core bumps a shared counter; join waits for it.
  const counter = yield* mem.alloc(8);
  const h = yield* env.spawn(function* (t, at) {
    yield* t.mem.storeU64(at, (yield* t.mem.loadU64(at)) + 41n);
    return 0;
  }, counter);
  yield* env.join(h);
  yield* is('a thread ran and was joined', Number(yield* mem.loadU64(counter)), 41);

  yield* is('publish with a bad name', yield* sys.raw(SYS.lwk_publish, msg.va, 0, 1, 0), -ERRNO.EINVAL);
  yield* sys.publish('checks_passed', passed);
  yield* sys.publish('checks_failed', failed);
  yield* sys.print(`sysexercise: ${passed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
});
