// Issue #13's last open item: an Active Messages rank that waits on a peer which exited having sent it
// nothing polls for ever over U-Net (no send of its own comes back undelivered to tell it). Launched by
// yod, the peer's failure now ends the job: its kernel sends yod a FAILED notice at once
// (kernel/job/failnotice.ts) and yod kills the job 1-to-n, as mpirun does (--on-failure end).
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { launch } from '../../monitor/launch.ts';
import { buildReport } from '../../monitor/report.ts';
import { type OnFailure, System } from '../../system/system.ts';
import { amStart } from '../../userland/lib/am/am.ts';
import { amOverUnet } from '../../userland/lib/am/unet.ts';
import { program } from '../../userland/lib/runtime.ts';

/** Rank 1 sets up AM over U-Net, then exits 3 (or faults); rank 0 waits for a message that never comes. */
function peerFails(how: 'exit' | 'fault') {
  return program(`amwait_${how}`, function* (env) {
    const rank = yield* env.sys.getrank();
    const am = yield* amStart(env, yield* amOverUnet(env), [
      function* nothing() {
        // never called: nobody sends
      },
    ]);
    if (rank === 1) {
      if (how === 'fault') yield* env.mem.loadU64(0x10);
      return 3;
    }
    yield* am.waitUntil(() => false);
    return 0;
  });
}

/** Runs the job through yod on two compute nodes and a service node, for at most `boundMs` of simulated time. */
function runThroughYod(how: 'exit' | 'fault', onFailure: OnFailure, boundMs: number) {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [3] }, seed: 1 });
  sys.trace.enabled = false;
  const job = launch(sys, { load: 'two-phase', fanout: { kind: 'binomial' }, programs: [peerFails(how)], map: [{ firstNid: 0, count: 2, image: 0 }], argv: [], timeoutUs: 200_000, onFailure });
  const stop = sys.run({ done: () => sys.jobDone(job), until: boundMs * 1e9 });
  const { host: _host, ...report } = buildReport(sys, job, stop, null, 0);
  return { report, done: sys.jobDone(job), nowMs: sys.now / 1e9 };
}

describe('a rank that fails while its AM peer polls over U-Net for ever', () => {
  it('ends the job in simulated milliseconds, non-zero, with the rank, its status and the reason', () => {
    const r = runThroughYod('exit', 'end', 1000);
    expect(r.done).toBe(true);
    expect(r.nowMs).toBeLessThan(20);
    expect(r.report.job.status).toBe('failed');
    expect(r.report.yod?.exit_status).toBe(1);
    expect(r.report.yod?.stderr).toMatch(/^yod: job 1: rank 1 failed with status 3; ending the job$/m);
    expect(r.report.ranks[1].exit_status).toBe(3);
    expect(r.report.ranks[0].exit_status).toBe(137);
    expect(r.report.ranks[0].reason).toMatch(/killed by app kill from node 2/);
    expect(r.report.yod?.results).toMatchObject({ first_failed_rank: 1, first_failed_status: 3, ranks_exited: 2, ranks_failed: 2 });
    expect(r.report.yod?.stderr).toMatch(/2 of 2 rank\(s\) failed; first: rank 1 with status 3/);
  });

  it('ends the job the same way when the rank faults, naming the fault', () => {
    const r = runThroughYod('fault', 'end', 1000);
    expect(r.done).toBe(true);
    expect(r.nowMs).toBeLessThan(20);
    expect(r.report.job.status).toBe('failed');
    expect(r.report.yod?.stderr).toMatch(/^yod: job 1: rank 1 failed with status \d+: .*page fault.*; ending the job$/m);
    expect(r.report.ranks[0].exit_status).toBe(137);
    expect(r.report.yod?.results.first_failed_rank).toBe(1);
  });

  it('with --on-failure continue lets the poller run on, as before', () => {
    const r = runThroughYod('exit', 'continue', 3);
    expect(r.done).toBe(false);
    expect(r.report.job.status).toBe('incomplete');
    expect(r.report.ranks[1].exit_status).toBe(3);
    expect(r.report.ranks[0].exit_status).toBeNull();
    expect(r.report.yod?.stderr).not.toMatch(/ending the job/);
    // yod still heard which rank failed first.
    expect(r.report.yod?.results.first_failed_rank).toBe(1);
  });

  it('gives the same report twice', () => {
    expect(runThroughYod('exit', 'end', 1000).report).toEqual(runThroughYod('exit', 'end', 1000).report);
  });
});
