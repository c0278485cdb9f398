import { describe, expect, it } from 'vitest';
import { APPS } from '../../userland/apps/index.ts';
import { boot, runMain, runProgram, steps } from './helpers.ts';

describe('TLB shootdown', () => {
  it('makes the reader on core 1 see the new page after the remap (tlbstale)', () => {
    const sys = boot({ cores: 2 });
    const { results, p } = runProgram(sys, APPS.tlbstale);
    expect(p.exitStatus).toBe(0);
    expect(results.stale_reads).toBe(0);
    expect(results.new_reads + results.faults).toBeGreaterThan(0);
    expect(sys.kernel(0).stats.shootdowns).toBe(1);
  });

  it('leaves the reader on the stale frame with --no-shootdown', () => {
    const sys = boot({ cores: 2, shootdown: false });
    const { results } = runProgram(sys, APPS.tlbstale);
    expect(results.stale_reads).toBe(50);
    expect(results.new_reads).toBe(0);
    expect(steps(sys, 'tlb/shootdown-skipped')).toHaveLength(1);
    expect(sys.kernel(0).stats.shootdowns).toBe(0);
  });

  it('interrupts only the cores that have run the address space', () => {
    const { sys } = runMain(
      function* (env) {
        const a = yield* env.sys.mmap(0, 4096, 3, 0x22);
        yield* env.mem.storeU64(a, 1n);
        yield* env.sys.munmap(a, 4096);
      },
      { cores: 4 },
    );
    // Single-threaded: nothing else holds the translation, so no IPI at all.
    expect(steps(sys, 'xcall/send')).toHaveLength(0);
    expect(steps(sys, 'tlb/invlpg')).toHaveLength(1);
  });

  it('sends one IPI per other core that ran a thread, and waits for every acknowledgement', () => {
    const { sys } = runMain(
      function* (env) {
        const a = yield* env.sys.mmap(0, 8192, 3, 0x22);
        const hs = [];
        for (let i = 0; i < 3; i++) hs.push(yield* env.spawn(function* (t) {
          yield* t.mem.loadU64(a);
          yield* t.compute(200_000);
        }));
        yield* env.compute(50_000);
        yield* env.sys.mprotect(a, 8192, 1);
        for (const h of hs) yield* env.join(h);
      },
      { cores: 4 },
    );
    const sends = sys.trace.last().filter((r) => r.path === 'xcall' && r.step === 'send');
    expect(sends.map((r) => r.detail.split('-> ')[1]).sort()).toEqual(['core 1', 'core 2', 'core 3']);
    expect(steps(sys, 'xcall/run')).toHaveLength(3);
    const done = sys.trace.last().find((r) => r.path === 'xcall' && r.step === 'done')!;
    const runs = sys.trace.last().filter((r) => r.path === 'xcall' && r.step === 'run');
    expect(runs.every((r) => r.t <= done.t)).toBe(true);
    expect(done.detail).toMatch(/^3 core\(s\) acknowledged/);
  });

  it('frees the frames only after the shootdown completes', () => {
    const { sys } = runMain(
      function* (env) {
        const a = yield* env.sys.mmap(0, 4096, 3, 0x22);
        const h = yield* env.spawn(function* (t) {
          yield* t.mem.loadU64(a);
          yield* t.compute(500_000);
        });
        yield* env.compute(20_000);
        yield* env.sys.munmap(a, 4096);
        yield* env.join(h);
      },
      { cores: 2 },
    );
    const order = steps(sys).filter((s) => ['mm/unmap', 'xcall/done', 'syscall/exit'].includes(s));
    const i = order.indexOf('mm/unmap');
    expect(order.slice(i, i + 3)).toEqual(['mm/unmap', 'xcall/done', 'syscall/exit']);
  });
});
