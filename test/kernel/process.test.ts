import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../userland/lib/abi.gen.ts';
import { FUTEX_WAIT, FUTEX_WAKE } from '../../userland/lib/sys.ts';
import { runMain, steps } from './helpers.ts';

describe('processes', () => {
  it('lay argc, argv and envp on the stack for crt0', () => {
    const { stdout } = runMain(
      function* (env) {
        yield* env.sys.print(`${env.argv.join('|')} / ${env.envp.join('|')}\n`);
      },
      { argv: ['one', 'two words'] },
    );
    expect(stdout).toBe('test|one|two words / MARGAY_RANK=0\n');
  });

  it('end with main\'s return value as the exit status', () => {
    const { p } = runMain(function* () {
      return 7;
    });
    expect(p.exitStatus).toBe(7);
    expect(p.exitReason).toBeNull();
  });

  it('are killed by a page fault with the address, the access and rip', () => {
    const { p } = runMain(function* (env) {
      yield* env.mem.storeU64(0x1234_5000, 1n);
    });
    expect(p.exitStatus).toBe(139);
    expect(p.exitReason).toMatch(/^page fault at 0x12345000: write, not-present \(rip 0x[0-9a-f]+\)$/);
  });

  it('are killed when a store hits read-only text', () => {
    const { p } = runMain(function* (env) {
      yield* env.mem.storeU32(0x40_0010, 1);
    });
    expect(p.exitReason).toMatch(/write, write to a read-only page/);
  });

  it('can ride out faults with a user-level handler', () => {
    const { results, p } = runMain(function* (env) {
      let seen = 0;
      const page = yield* env.sys.mmap(0, 4096, 0, 0x22);
      yield* env.onFault(function* (addr, write) {
        seen++;
        yield* env.sys.publish('fault_addr', addr);
        yield* env.sys.publish('fault_write', write ? 1 : 0);
        yield* env.sys.mprotect(page, 4096, 3);
      });
      yield* env.mem.storeU64(page + 8, 99n);
      yield* env.sys.publish('value', Number(yield* env.mem.loadU64(page + 8)));
      yield* env.sys.publish('seen', seen);
    });
    expect(p.exitStatus).toBe(0);
    expect(results).toMatchObject({ value: 99, seen: 1, fault_write: 1 });
  });

  it('report a program that throws, without a host stack trace', () => {
    const { p } = runMain(function* () {
      throw new Error('boom');
    });
    expect(p.exitStatus).toBe(134);
    expect(p.exitReason).toBe('user program threw: boom');
  });

  it('report a program that yields nonsense', () => {
    const { p } = runMain(function* () {
      yield { op: 'teleport' } as never;
    });
    expect(p.exitStatus).toBe(132);
    expect(p.exitReason).toMatch(/invalid operation/);
  });
});

describe('threads', () => {
  it('start on another core with clone and are joined through the cleared tid', () => {
    const { results, sys } = runMain(
      function* (env) {
        const word = yield* env.mem.alloc(8);
        const h = yield* env.spawn(function* (t, at) {
          yield* t.mem.storeU64(at, BigInt(yield* t.sys.getcpu()));
          yield* t.compute(10_000);
        }, word);
        yield* env.join(h);
        yield* env.sys.publish('child_core', Number(yield* env.mem.loadU64(word)));
        yield* env.sys.publish('my_core', yield* env.sys.getcpu());
      },
      { cores: 2 },
    );
    expect(results).toEqual({ child_core: 1, my_core: 0 });
    expect(steps(sys, 'proc/clone')).toHaveLength(1);
  });

  it('wait on a futex until another thread wakes them', () => {
    const { results } = runMain(
      function* (env) {
        const word = yield* env.mem.alloc(8);
        const h = yield* env.spawn(function* (t, at) {
          const r = yield* t.sys.futex(at, FUTEX_WAIT, 0);
          yield* t.sys.publish('wait_result', r);
          yield* t.sys.publish('woke_at_value', yield* t.mem.loadU32(at));
        }, word);
        yield* env.compute(100_000);
        yield* env.mem.storeU32(word, 1);
        yield* env.sys.publish('woken', yield* env.sys.futex(word, FUTEX_WAKE, 1));
        yield* env.join(h);
      },
      { cores: 2 },
    );
    expect(results).toEqual({ woken: 1, wait_result: 0, woke_at_value: 1 });
  });

  it('time out of a futex wait with -ETIMEDOUT', () => {
    const { results } = runMain(function* (env) {
      const word = yield* env.mem.alloc(8);
      const ts = yield* env.mem.alloc(16);
      yield* env.mem.storeU64(ts + 8, 1000);
      yield* env.sys.publish('r', yield* env.sys.futex(word, FUTEX_WAIT, 0, ts));
    });
    expect(results.r).toBe(-ERRNO.ETIMEDOUT);
  });

  it('share a core round robin when there are more threads than cores', () => {
    const { results, sys } = runMain(
      function* (env) {
        const done = yield* env.mem.alloc(64);
        const hs = [];
        for (let i = 0; i < 3; i++) {
          hs.push(
            yield* env.spawn(function* (t, slot) {
              yield* t.compute(100_000_000); // ~42 ms at 2.4 GHz: several quanta
              const now = yield* t.sys.clockNs();
              yield* t.mem.storeU64(slot, now);
            }, done + 8 * i),
          );
        }
        for (const h of hs) yield* env.join(h);
        for (let i = 0; i < 3; i++) yield* env.sys.publish(`t${i}_ms`, Math.round(Number(yield* env.mem.loadU64(done + 8 * i)) / 1e6));
      },
      { cores: 2 },
    );
    // Threads 1 and 3 share core 1 (main and thread 2 share core 0): they finish together, late.
    expect(steps(sys, 'sched/quantum').length).toBeGreaterThan(2);
    expect(Math.abs(results.t0_ms - results.t2_ms)).toBeLessThanOrEqual(12);
    expect(results.t1_ms).toBeGreaterThanOrEqual(41);
  });

  it('yield the core to the next runnable thread with sched_yield', () => {
    const { sys } = runMain(
      function* (env) {
        const h = yield* env.spawn(function* (t) {
          yield* t.compute(1000);
        });
        yield* env.sys.schedYield();
        yield* env.join(h);
      },
      { cores: 1 },
    );
    expect(steps(sys, 'sched/switch').length).toBeGreaterThanOrEqual(3);
  });

  it('sleep on the APIC timer', () => {
    const { results, sys } = runMain(function* (env) {
      const t0 = yield* env.sys.clockNs();
      yield* env.sys.nanosleep(250_000);
      yield* env.sys.publish('slept_ns', (yield* env.sys.clockNs()) - t0);
    });
    expect(results.slept_ns).toBeGreaterThanOrEqual(250_000);
    expect(results.slept_ns).toBeLessThan(260_000);
    expect(steps(sys, 'irq/entry').length).toBeGreaterThanOrEqual(1);
    expect(sys.trace.last().some((r) => r.path === 'irq' && r.detail === 'apic-timer')).toBe(true);
  });
});
