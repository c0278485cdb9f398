// An Env belongs to one thread: its syscall wrappers set that thread's
// registers. Using the main thread's env on another thread (in a spawned
// function or a fault handler) fails at once with a message that says which
// env to use, instead of returning garbage or looping (issue 11 item 4).

import { describe, expect, it } from 'vitest';
import { getProfile, withOverrides } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { type Main, program } from '../../userland/lib/runtime.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_NONE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';

function runOne(main: Main, cores = 2) {
  const sys = new System({ profile: withOverrides(getProfile('redstorm'), { 'cpu.cores': cores }, 'test'), shape: { kind: 'mesh', dims: [1] }, seed: 1 });
  sys.trace.enabled = false;
  const job = sys.launchDirect(program('threads', main), [0], []);
  const stop = sys.run({ done: () => sys.jobDone(job), until: 1e11 });
  const p = job.ranks[0].process!;
  return { stop, status: p.exitStatus, reason: p.exitReason ?? '', stdout: p.stdout.join('') };
}

const ADVICE = /use the env the thread function receives/;

describe("another thread's env", () => {
  for (const cores of [1, 2]) {
    it(`used by a spawned thread on ${cores} core(s) fails the process with a message naming the env to use`, () => {
      const r = runOne(function* (env) {
        const h = yield* env.spawn(function* () {
          const cpu = yield* env.sys.getcpu(); // main's env, on the new thread
          yield* env.sys.print(`getcpu ${cpu}\n`);
        });
        yield* env.join(h);
        return 0;
      }, cores);
      expect(r.stdout).not.toMatch(/getcpu/);
      expect(r.status).not.toBe(0);
      expect(r.reason).toMatch(/the main thread's env used on another thread/);
      expect(r.reason).toMatch(ADVICE);
    });
  }

  it('used in a fault handler on another thread fails instead of faulting forever', () => {
    const r = runOne(function* (env) {
      const page = yield* env.sys.mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
      yield* env.onFault(function* (addr) {
        yield* env.sys.mprotect(addr - (addr % 4096), 4096, PROT_READ | PROT_WRITE);
      });
      const h = yield* env.spawn(function* (t) {
        yield* t.mem.storeU64(page, 1n);
      });
      yield* env.join(h);
      return 0;
    });
    expect(r.stop.kind).not.toBe('limit');
    expect(r.reason).toMatch(/the main thread's env used on another thread/);
  });

  it("is fine in a fault handler that uses the env it receives", () => {
    const r = runOne(function* (env) {
      const page = yield* env.sys.mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
      yield* env.onFault(function* (addr, _write, t) {
        yield* t.sys.mprotect(addr - (addr % 4096), 4096, PROT_READ | PROT_WRITE);
      });
      const h = yield* env.spawn(function* (t) {
        yield* t.mem.storeU64(page, 7n);
      });
      yield* env.join(h);
      yield* env.sys.print(`read ${yield* env.mem.loadU64(page)}\n`);
      return 0;
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('read 7\n');
  });

  it("is fine when each thread uses its own env", () => {
    const r = runOne(function* (env) {
      const h = yield* env.spawn(function* (t) {
        const tid = yield* t.sys.gettid();
        yield* t.sys.print(`tid ok ${tid > 0}\n`);
      });
      yield* env.join(h);
      return 0;
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('tid ok true\n');
  });
});
