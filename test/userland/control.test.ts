// The runtime's control channel (sendControl, barrier) cannot hang: a peer
// that is not there yet is retried, and one that never answers ends in an
// error that names it (issue 11 item 2).

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { sendControl, setup } from '../../userland/lib/ptlapp.ts';
import { program } from '../../userland/lib/runtime.ts';

function boot(n: number) {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [n] }, seed: 1 });
  sys.trace.enabled = false;
  return sys;
}

describe('a control message', () => {
  it('reaches a peer that sets up its Portals interface only later', () => {
    const sys = boot(2);
    const late = program('late', function* main(env) {
      const rank = yield* env.sys.getrank();
      if (rank === 0) yield* env.sys.nanosleep(3_000_000); // rank 0 is still "loading"
      const app = yield* setup(env, 64);
      if (rank === 1) yield* sendControl(env, app, 0);
      else {
        const ev = yield* app.P.PtlEQWait(app.eq);
        yield* env.sys.print(`got bits ${ev.event!.match_bits}\n`);
      }
      return 0;
    });
    const job = sys.launchDirect(late, [0, 1], []);
    sys.run({ done: () => sys.jobDone(job), until: 1e12 });
    expect(job.ranks.map((r) => r.process?.exitStatus)).toEqual([0, 0]);
    expect(job.ranks[0].process?.stdout.join('')).toBe('got bits 2\n');
  });

  it('to a peer that never creates its interface ends in an error naming the peer, not a hang', () => {
    const sys = boot(2);
    const lonely = program('lonely', function* main(env) {
      const rank = yield* env.sys.getrank();
      if (rank === 0) {
        yield* env.sys.nanosleep(500_000_000);
        return 0;
      }
      const app = yield* setup(env, 64);
      yield* sendControl(env, app, 0, undefined, 20_000_000);
      return 0;
    });
    const job = sys.launchDirect(lonely, [0, 1], []);
    sys.run({ done: () => sys.jobDone(job), until: 2e12 });
    const r1 = job.ranks[1].process!;
    expect(r1.exitStatus).not.toBe(0);
    expect(r1.exitReason).toMatch(/rank 1: rank 0 did not acknowledge a control message in 20 ms .*PTL_NI_TARGET_INVALID/);
  });
});
