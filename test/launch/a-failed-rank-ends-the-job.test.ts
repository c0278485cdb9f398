// --on-failure end (margay run's default): when a rank's process ends with a nonzero status its kernel
// sends yod one FAILED notice at once (kernel/job/failnotice.ts), and yod kills the job 1-to-n, as mpirun
// does. Every rank must end, whatever it is blocked in; a successful job sends no notice; no process can
// send one.
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import type { Shape } from '../../hw/topology.ts';
import { launch } from '../../monitor/launch.ts';
import { buildReport } from '../../monitor/report.ts';
import { type Job, type OnFailure, System } from '../../system/system.ts';
import { APPS } from '../../userland/apps/index.ts';
import { ERRNO, FUTEX_WAIT, KMSG } from '../../userland/lib/abi.gen.ts';
import { openKernelDsm } from '../../userland/lib/dsm/kernel.ts';
import { openIpc } from '../../userland/lib/ipc.ts';
import type { LoadMode } from '../../userland/lib/jobblock.ts';
import { DEFAULT_RTASK } from '../../userland/lib/rtask.ts';
import { setup } from '../../userland/lib/ptlapp.ts';
import type { U } from '../../userland/lib/ops.ts';
import { type Env, program } from '../../userland/lib/runtime.ts';
import { unetCreate, unetReceive } from '../../userland/lib/unet.ts';
import type { UserProgram } from '../../kernel/abi.ts';

/** Sleeps for good, a second at a time (nanosleep refuses a time past the end of simulated time). */
function* sleepForever(env: Env): U<number> {
  for (;;) yield* env.sys.nanosleep(1e9);
}

function boot(shape: Shape): System {
  const sys = new System({ profile: getProfile('redstorm'), shape, seed: 3 });
  sys.trace.enabled = false;
  return sys;
}

function start(sys: System, prog: UserProgram, ranks: number, o: { load?: LoadMode; onFailure?: OnFailure } = {}): Job {
  return launch(sys, { load: o.load ?? 'two-phase', fanout: { kind: 'binomial' }, programs: [prog], map: [{ firstNid: 0, count: ranks, image: 0 }], argv: [], timeoutUs: 200_000, onFailure: o.onFailure });
}

function finish(sys: System, job: Job, boundMs = 1000) {
  const stop = sys.run({ done: () => sys.jobDone(job), until: boundMs * 1e9 });
  return { report: buildReport(sys, job, stop, null, 0), done: sys.jobDone(job), nowMs: sys.now / 1e9 };
}

/** FAILED notices the kernels sent. */
function notices(sys: System): number {
  let n = 0;
  for (let nid = 0; nid < sys.machine.size; nid++) n += sys.existingKernel(nid)?.jobs.stats.failureNotices ?? 0;
  return n;
}

/** Every rank opens the kernel DSM (collective), then rank 0 fails after 2 ms while the others wait, each in its own way. */
const waiters = program('waiters', function* (env) {
  const { sys, mem } = env;
  const rank = yield* sys.getrank();
  const dsm = yield* openKernelDsm(env, 1 << 16);
  switch (rank) {
    case 0: // the rank that fails, once the others are waiting
      yield* sys.nanosleep(2_000_000);
      return 3;
    case 1: {
      // a Portals event queue wait nothing will ever post to
      const a = yield* setup(env, 4096);
      yield* a.P.PtlEQWait(a.ctlEq);
      return 0;
    }
    case 2: {
      // a U-Net polling loop on an endpoint no message will reach
      const ep = yield* unetCreate(env, { entries: 8 });
      yield* unetReceive(env, ep);
      return 0;
    }
    case 3:
      return yield* sleepForever(env);
    case 4: {
      // ipc_receive on a port nobody holds a send right to
      const ipc = yield* openIpc(env);
      yield* ipc.receive(yield* ipc.portAlloc());
      return 0;
    }
    case 5:
      // a DSM lock wait: rank 6 holds the lock for good
      yield* sys.nanosleep(500_000);
      yield* dsm.lock(0);
      return 0;
    case 6: {
      // holds DSM lock 0, then a futex wait nobody will wake
      yield* dsm.lock(0);
      const word = yield* mem.alloc(8);
      yield* sys.futex(word, FUTEX_WAIT, 0);
      return 0;
    }
    default:
      // a compute loop
      for (;;) yield* env.compute(1_000_000);
  }
});

describe('a job whose rank fails (--on-failure end)', () => {
  it('ends every rank, whatever wait it is blocked in: Portals EQ, U-Net polling, nanosleep, ipc_receive, DSM lock, futex, compute', () => {
    const sys = boot({ kind: 'mesh', dims: [9] });
    const r = finish(sys, start(sys, waiters, 8));
    expect(r.done).toBe(true);
    expect(r.nowMs).toBeLessThan(20);
    expect(r.report.job.status).toBe('failed');
    expect(r.report.yod?.stderr).toMatch(/^yod: job 1: rank 0 failed with status 3; ending the job$/m);
    expect(r.report.ranks[0].exit_status).toBe(3);
    for (let rank = 1; rank < 8; rank++) {
      expect(r.report.ranks[rank].exit_status, `rank ${rank}`).toBe(137);
      expect(r.report.ranks[rank].reason, `rank ${rank}`).toMatch(/killed by app kill from node 8/);
    }
    expect(r.report.yod?.results).toMatchObject({ first_failed_rank: 0, first_failed_status: 3, ranks_exited: 8, ranks_failed: 8 });
    // The failed rank's kernel sent the one notice; the ranks yod killed sent none.
    expect(notices(sys)).toBe(1);
  });

  it('with --on-failure continue leaves the others waiting', () => {
    const sys = boot({ kind: 'mesh', dims: [9] });
    const r = finish(sys, start(sys, waiters, 8, { onFailure: 'continue' }), 6);
    expect(r.done).toBe(false);
    expect(r.report.ranks[0].exit_status).toBe(3);
    for (let rank = 1; rank < 8; rank++) expect(r.report.ranks[rank].exit_status, `rank ${rank}`).toBeNull();
  });

  it('ends a job of 1,024 ranks promptly when one of them fails', () => {
    const oneFails = program('onefails', function* (env) {
      if ((yield* env.sys.getrank()) === 517) return 7;
      return yield* sleepForever(env);
    });
    const sys = boot({ kind: 'mesh', dims: [33, 32] });
    const r = finish(sys, start(sys, oneFails, 1024));
    expect(r.done).toBe(true);
    expect(r.report.yod?.stderr).toMatch(/^yod: job 1: rank 517 failed with status 7; ending the job$/m);
    expect(r.report.yod?.results).toMatchObject({ first_failed_rank: 517, ranks_exited: 1024, ranks_failed: 1024 });
    const y = r.report.yod!.results;
    // From the failure to the whole job's exit status: well under the load's own time.
    expect(y.yod_exit_at_ns - y.first_failed_at_ns).toBeLessThan(5_000_000);
    expect(notices(sys)).toBe(1);
  });

  it('sends no failure notice for a job that succeeds', () => {
    const sys = boot({ kind: 'mesh', dims: [9, 8] });
    const r = finish(sys, start(sys, APPS.hello, 64));
    expect(r.report.job.status).toBe('completed');
    expect(notices(sys)).toBe(0);
    expect(r.report.yod?.results.first_failed_rank).toBeUndefined();
  });

  it('ends a one-phase job the same way', () => {
    const sys = boot({ kind: 'mesh', dims: [5] });
    const oneFails = program('onephasefails', function* (env) {
      if ((yield* env.sys.getrank()) === 3) throw new Error('no convergence');
      return yield* sleepForever(env);
    });
    const r = finish(sys, start(sys, oneFails, 4, { load: 'one-phase' }));
    expect(r.done).toBe(true);
    expect(r.report.yod?.stderr).toMatch(/^yod: job 1: rank 3 failed with status 134: user program threw: no convergence; ending the job$/m);
    for (const rank of [0, 1, 2]) expect(r.report.ranks[rank].exit_status, `rank ${rank}`).toBe(137);
  });

  it('ends a remote-tasking job (--load crtc) the same way', () => {
    const sys = boot({ kind: 'mesh', dims: [5] });
    const oneFails = program('crtcfails', function* (env) {
      if ((yield* env.sys.getrank()) === 2) return 5;
      return yield* sleepForever(env);
    });
    const r = finish(sys, start(sys, oneFails, 4, { load: 'crtc' }));
    expect(r.done).toBe(true);
    expect(r.nowMs).toBeLessThan(50);
    expect(r.report.yod?.stderr).toMatch(/^yod: job 1: rank 2 failed with status 5; ending the job$/m);
    for (const rank of [0, 1, 3]) expect(r.report.ranks[rank].exit_status, `rank ${rank}`).toBe(137);
    expect(r.report.yod?.results).toMatchObject({ first_failed_rank: 2, ranks_exited: 4, ranks_failed: 4 });
  });

  it('ends a remote-tasking job whose task dies of a failed page-in, then takes its source\'s word', () => {
    const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [5] }, seed: 1 });
    sys.trace.enabled = false;
    const job = launch(sys, { load: 'crtc', fanout: { kind: 'binomial' }, programs: [APPS.cor_touch], map: [{ firstNid: 0, count: 4, image: 0 }], argv: ['pages=8', 'sleep_us=200000'], timeoutUs: 1e6, rtask: { ...DEFAULT_RTASK } });
    sys.run({ done: () => [0, 1, 2, 3].every((n) => [...sys.kernel(n).rtask.tasks.values()][0]?.started === true), until: 10e12 });
    sys.run({ until: sys.now + 1e9 });
    // Node 0 is the pager of ranks 2 and 3.
    sys.machine.network.setNodeDown(0, true);
    sys.run({ done: () => sys.jobDone(job), until: sys.now + 200e12 });
    expect(sys.jobDone(job)).toBe(true);
    const err = job.yod!.stderr.join('');
    expect(err).toMatch(/^yod: job 1: rank [23] failed with status 135: copy-on-reference page-in of 0x[0-9a-f]+ failed: pager node 0: .*; ending the job$/m);
    expect(err).toMatch(/ended by its source/);
    sys.run({ until: sys.now + 20e12 });
    for (const n of [1, 2, 3]) expect(sys.kernel(n).liveProcesses()).toEqual([]);
  });

  it('ends a direct job (no launcher: the host kills the other ranks) with onFailure end', () => {
    const sys = boot({ kind: 'mesh', dims: [4] });
    const oneFails = program('directfails', function* (env) {
      if ((yield* env.sys.getrank()) === 1) return 4;
      return yield* sleepForever(env);
    });
    const job = sys.launchDirect(oneFails, [0, 1, 2, 3], [], 1000, { onFailure: 'end' });
    sys.run({ done: () => sys.jobDone(job), until: 1e12 });
    expect(sys.jobDone(job)).toBe(true);
    expect(job.firstFailedRank).toBe(1);
    for (const rank of [0, 2, 3]) {
      expect(job.ranks[rank].process?.exitStatus).toBe(137);
      expect(job.ranks[rank].process?.exitReason).toBe('killed: rank 1 of the job failed with status 4');
    }
  });

  it('refuses a FAILED notice sent by a process, for another rank or another job, and the job runs on', () => {
    const forger = program('forger', function* (env) {
      const { sys } = env;
      const rank = yield* sys.getrank();
      if (rank === 1) {
        const svc = 2; // yod's node, the service node
        for (const [r, jobId] of [[0, 1], [1, 1], [0, 2]]) {
          const rc = yield* sys.kmsgSend({ type: KMSG.FAILED, dstNid: svc, dstPid: 1, rank: r, jobId, payload: 0, payloadLen: 0, imageLen: 0, jobSize: 2 });
          yield* sys.publish(`forged_rank${r}_job${jobId}`, rc);
        }
      }
      yield* sys.nanosleep(1_000_000);
      return 0;
    });
    const sys = boot({ kind: 'mesh', dims: [3] });
    const r = finish(sys, start(sys, forger, 2));
    expect(r.report.job.status).toBe('completed');
    expect(r.report.ranks[1].results).toEqual({ forged_rank0_job1: -ERRNO.EINVAL, forged_rank1_job1: -ERRNO.EINVAL, forged_rank0_job2: -ERRNO.EINVAL });
    expect(r.report.yod?.stderr).toBe('');
    expect(notices(sys)).toBe(0);
  });

  it('drops mail that reaches a process after it ended (the kill-acks that come back after yod exited)', () => {
    const sys = boot({ kind: 'mesh', dims: [3] });
    const job = start(sys, APPS.hello, 2);
    finish(sys, job);
    const svc = sys.kernel(2);
    const yodPid = job.yod!.pid;
    const before = svc.jobs.stats.dropped;
    const k0 = sys.kernel(0);
    k0.jobs.send(2, k0.jobs.header('kill-ack', { dstPid: yodPid, rank: 0, jobId: 1, code: 1 }), null);
    sys.run({ until: sys.now + 1e9 });
    expect(svc.jobs.stats.dropped).toBe(before + 1);
    // A later process given yod's pid would otherwise read it.
    expect(svc.jobs.takeMail(yodPid)).toBeUndefined();
  });

  it('has yod believe a notice only from the kernel of the rank\'s own node', () => {
    const sleeper = program('sleeper', function* (env) {
      yield* env.sys.nanosleep(1_000_000);
      return 0;
    });
    const sys = boot({ kind: 'mesh', dims: [3] });
    const job = start(sys, sleeper, 2);
    sys.run({ until: 500e6, done: () => sys.mainTimes(job).lastMain >= 0 });
    // Node 1's kernel claims that rank 0 (on node 0) failed.
    const k1 = sys.kernel(1);
    k1.jobs.send(2, k1.jobs.header('failed', { dstPid: job.yod!.pid, rank: 0, jobId: 1, code: 9 }), null);
    const r = finish(sys, job);
    expect(r.report.job.status).toBe('completed');
    expect(r.report.yod?.stderr).toBe('');
    expect(r.report.yod?.results.first_failed_rank).toBeUndefined();
  });
});
