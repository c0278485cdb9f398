// A wake that comes before its path blocks keeps its value (sched.ts wake,
// t.wakePending), so that path's block returns at once. A wake that reaches a
// thread in user mode, or comes after its path's last block, was meant for no
// path of a later call: it must not make the thread's next block, in some
// later system call, return at once (issue #14 verify 1: a local ipc_send's
// verdict left such a wake; ipc_receive then oopsed and nanosleep slept 0).
import { expect, it } from 'vitest';
import { program } from '../../userland/lib/runtime.ts';
import { inKernel, machine } from '../ipc/helpers.ts';

it('drops a wake that reaches a thread in user mode: its next nanosleep still sleeps', () => {
  const sys = machine({ nodes: 1, transport: 'dipc' });
  const job = sys.launchDirect(
    program('t', function* (env) {
      yield* env.compute(20_000_000); // in user mode while the stray wake comes
      const t0 = sys.now;
      yield* env.sys.nanosleep(500_000_000);
      yield* env.sys.publish('slept_ms', Math.round((sys.now - t0) / 1e9));
      return 0;
    }),
    [0],
    ['t'],
  );
  const p = job.ranks[0].process!;
  sys.run({ until: sys.now + 1e9 }); // 1 ms in: computing
  const t = p.threads[0];
  expect(t.kpath).toBeNull();
  inKernel(sys, 0, (cpu) => sys.kernel(0).wake(t, 7, cpu));
  sys.run({ done: () => sys.jobDone(job), until: 5e12 });
  expect(p.results.get('slept_ms')).toBeGreaterThanOrEqual(500);
});
