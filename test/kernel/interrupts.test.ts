import { describe, expect, it } from 'vitest';
import { cyclesToPs } from '../../hw/time.ts';
import { boot, runProgram } from './helpers.ts';
import { program } from '../../userland/lib/runtime.ts';

describe('interrupts', () => {
  it('cut a long computation short and let it resume with its remaining cycles', () => {
    const CYCLES = 24_000_000; // 10 ms at 2.4 GHz
    const measure = (withMessage: boolean) => {
      const sys = boot({ nodes: 2 });
      const prog = program('busy', function* (env) {
        const t0 = yield* env.sys.clockNs();
        yield* env.compute(CYCLES);
        yield* env.sys.publish('elapsed_ns', (yield* env.sys.clockNs()) - t0);
      });
      const job = sys.launchDirect(prog, [0], []);
      if (withMessage) {
        // A message from node 1 arrives in the middle: node 0's NIC interrupts core 0.
        sys.kernel(1);
        sys.run({ until: 2_000_000_000 });
        sys.machine.node(1).nic.transmit({ dst: 0, header: new Uint8Array(64), payloadAddr: 0, payloadLen: 0, cookie: 0 });
      }
      sys.run({ done: () => sys.jobDone(job) });
      return { elapsed: job.ranks[0].process!.results.get('elapsed_ns')!, sys };
    };
    const quiet = measure(false);
    const busy = measure(true);
    const irqs = busy.sys.trace.last().filter((r) => r.node === 0 && r.path === 'irq' && r.step === 'entry');
    expect(irqs.map((r) => r.detail)).toEqual(['nic-rx']);
    // The computation still did all its cycles; the handler's time was added, not lost.
    expect(quiet.elapsed).toBeGreaterThanOrEqual(cyclesToPs(CYCLES, 2.4e9) / 1000);
    expect(busy.elapsed).toBeGreaterThan(quiet.elapsed);
    expect(busy.elapsed - quiet.elapsed).toBeLessThan(5_000);
  });

  it('send the EOI once, after the handler', () => {
    const sys = boot();
    const { p } = runProgram(sys, program('sleepy', function* (env) {
      yield* env.sys.nanosleep(10_000);
    }));
    expect(p.exitStatus).toBe(0);
    const recs = sys.trace.last().filter((r) => r.path === 'irq' || r.path === 'timer');
    const entry = recs.findIndex((r) => r.step === 'entry');
    expect(recs.slice(entry, entry + 3).map((r) => `${r.path}/${r.step}`)).toEqual(['irq/entry', 'timer/expire', 'irq/eoi']);
    expect(sys.kernel(0).cpus[0].core.apic.highestIsr()).toBe(-1);
  });

  it('wake a halted core with a reschedule IPI when a thread homed there becomes runnable', () => {
    const sys = boot({ cores: 2 });
    runProgram(sys, program('t', function* (env) {
      const h = yield* env.spawn(function* (t) {
        yield* t.compute(10);
      });
      yield* env.join(h);
    }));
    const ipis = sys.trace.last().filter((r) => r.path === 'ipi' && r.step === 'send');
    expect(ipis.map((r) => r.detail)).toContain('reschedule -> core 1');
    expect(sys.trace.last().some((r) => r.core === 1 && r.path === 'irq' && r.detail === 'reschedule')).toBe(true);
  });
});
