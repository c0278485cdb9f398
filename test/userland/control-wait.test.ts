// The receiving side of the runtime's control channel waits with a limit too
// (a barrier whose peer never reports ends in an error naming that peer),
// and the Portals wrappers the channel calls on every try do not grow the
// process's heap.

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { barrier, setup } from '../../userland/lib/ptlapp.ts';
import { PTL, Portals } from '../../userland/lib/portals.ts';
import { send } from '../../userland/lib/collective.ts';
import { program } from '../../userland/lib/runtime.ts';

function boot(n: number) {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [n] }, seed: 1 });
  sys.trace.enabled = false;
  return sys;
}

describe('a barrier', () => {
  it('whose peer never reports ends in an error naming the rank it waited for, not a hang', () => {
    const sys = boot(3);
    const absent = program('absent', function* main(env) {
      const rank = yield* env.sys.getrank();
      const app = yield* setup(env, 64);
      // Rank 2 sets up and then never joins the barrier.
      if (rank === 2) {
        yield* env.sys.nanosleep(500_000_000);
        return 0;
      }
      yield* barrier(env, app, 20_000_000);
      return 0;
    });
    const job = sys.launchDirect(absent, [0, 1, 2], []);
    sys.run({ done: () => sys.jobDone(job), until: 2e12 });
    const [r0, r1] = [job.ranks[0].process!, job.ranks[1].process!];
    expect(r0.exitStatus).not.toBe(0);
    expect(r0.exitReason).toMatch(/rank 0: rank 2 did not report to the barrier in 20 ms of simulated time/);
    // Rank 1 reported, and waits for rank 0's release, which never comes.
    expect(r1.exitStatus).not.toBe(0);
    expect(r1.exitReason).toMatch(/rank 1: rank 0 did not release the barrier in 20 ms of simulated time/);
  });

  it('still completes when every rank arrives', () => {
    const sys = boot(4);
    const all = program('all', function* main(env) {
      const app = yield* setup(env, 64);
      yield* barrier(env, app, 20_000_000);
      yield* barrier(env, app);
      return 0;
    });
    const job = sys.launchDirect(all, [0, 1, 2, 3], []);
    sys.run({ done: () => sys.jobDone(job), until: 2e12 });
    expect(job.ranks.map((r) => r.process?.exitStatus)).toEqual([0, 0, 0, 0]);
  });
});

describe('the Portals wrappers on a retry path', () => {
  it('do not grow the heap per call (PtlEQPoll, PtlPut, PtlGet, a new wrapper per collective send)', () => {
    const sys = boot(1);
    const growth: number[] = [];
    const loop = program('loop', function* main(env) {
      const app = yield* setup(env, 64);
      const P = app.P;
      const ch = { app, eq: app.eq, me: 0, buf: 0 };
      const top = function* () {
        return yield* env.mem.alloc(0);
      };
      // First calls may set up the wrapper's buffers once.
      yield* P.PtlEQPoll([app.ctlEq], 0);
      yield* P.PtlPut(app.ctlMd, 0, 8, PTL.NO_ACK_REQ, { rank: 0 }, 0, 99n, 0, 0, 0);
      yield* P.PtlGet(app.ctlMd, 0, 8, { rank: 0 }, 0, 99n, 0, 0);
      yield* send(env, ch, 0, [1n]);
      const before = yield* top();
      for (let i = 0; i < 100; i++) {
        yield* P.PtlEQPoll([app.ctlEq, app.eq], 0);
        yield* P.PtlPut(app.ctlMd, 0, 8, PTL.NO_ACK_REQ, { rank: 0 }, 0, 99n, 0, 0, 0);
        yield* P.PtlGet(app.ctlMd, 0, 8, { rank: 0 }, 0, 99n, 0, 0);
        yield* send(env, ch, 0, [1n]);
        // A wrapper per thread, as the library's users make them, after its first call.
        yield* new Portals(env.cpu, env.mem).PtlEQPoll([app.eq], 0);
      }
      growth.push((yield* top()) - before);
      return 0;
    });
    const job = sys.launchDirect(loop, [0], []);
    sys.run({ done: () => sys.jobDone(job), until: 2e12 });
    expect(job.ranks[0].process?.exitStatus).toBe(0);
    expect(growth).toEqual([16]);
  });
});
