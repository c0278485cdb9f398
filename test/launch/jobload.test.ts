import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import type { Shape } from '../../hw/topology.ts';
import { type Job, System } from '../../system/system.ts';
import { launch } from '../../monitor/launch.ts';
import { buildReport } from '../../monitor/report.ts';
import { APPS } from '../../userland/apps/index.ts';
import { type Fanout, type LoadMode, formatFanout } from '../../userland/lib/jobblock.ts';
import { program } from '../../userland/lib/runtime.ts';

const busy = program('busy', function* main(env) {
  yield* env.compute(2.4e9 * 0.05); // 50 ms of work
  return 0;
});

function boot(shape: Shape, seed = 1): System {
  const sys = new System({ profile: getProfile('redstorm'), shape, seed });
  sys.trace.enabled = false;
  return sys;
}

function start(sys: System, o: { ranks: number; load?: LoadMode; fanout?: Fanout; programs?: typeof busy[]; map?: { firstNid: number; count: number; image: number }[]; corrupt?: number; argv?: string[] }): Job {
  return launch(sys, {
    load: o.load ?? 'two-phase',
    fanout: o.fanout ?? { kind: 'binomial' },
    programs: o.programs ?? [APPS.hello],
    map: o.map ?? [{ firstNid: 0, count: o.ranks, image: 0 }],
    argv: o.argv ?? [],
    timeoutUs: 200_000,
    corruptImageByte: o.corrupt,
  });
}

function finish(sys: System, job: Job) {
  const stop = sys.run({ done: () => sys.jobDone(job), until: 5e12 });
  return buildReport(sys, job, stop, null, 0);
}

const FANOUTS: Fanout[] = [{ kind: 'flat' }, { kind: 'flat-concurrent' }, { kind: 'tree', arity: 3 }, { kind: 'binomial' }];

describe('the job loader', () => {
  for (const load of ['two-phase', 'one-phase'] as const) {
    for (const fanout of FANOUTS) {
      it(`launches hello on 11 ranks ${load} over ${formatFanout(fanout)}, every rank in main with its own rank`, () => {
        const sys = boot({ kind: 'mesh', dims: [4, 3] });
        const r = finish(sys, start(sys, { ranks: 11, load, fanout }));
        expect(r.job.status).toBe('completed');
        expect(r.ranks.map((k) => k.stdout)).toEqual(Array.from({ length: 11 }, (_, i) => `hello from rank ${i} of 11 on node ${i} core 0, pid 100\n`));
        expect(r.yod?.stdout).toMatch(/11 rank\(s\) loaded and exited with status 0/);
        for (const v of Object.values(r.phases_ns!)) expect(v).toBeGreaterThan(0);
      });
    }
  }

  it('runs the executable the image carries: the process after exec is the app, not init', () => {
    const sys = boot({ kind: 'mesh', dims: [5] });
    const job = start(sys, { ranks: 4 });
    finish(sys, job);
    for (const s of sys.rankStates(job)) expect(s.process?.name).toBe('hello');
    expect(sys.kernel(2).jobs.records.get(1)?.process.name).toBe('hello');
  });

  it('loads a heterogeneous job: the nid map names a different image for some nodes', () => {
    const sys = boot({ kind: 'mesh', dims: [3, 3] });
    const other = program('other', function* main(env) {
      yield* env.sys.print(`other ${yield* env.sys.getrank()}\n`);
      return 0;
    });
    const job = start(sys, { ranks: 8, programs: [APPS.hello, other], map: [{ firstNid: 0, count: 5, image: 0 }, { firstNid: 5, count: 3, image: 1 }] });
    const r = finish(sys, job);
    expect(r.job.status).toBe('completed');
    expect(r.ranks[4].stdout).toMatch(/^hello from rank 4/);
    expect(r.ranks.slice(5).map((k) => k.stdout)).toEqual(['other 5\n', 'other 6\n', 'other 7\n']);
  });

  it('gets a NACK from a node that already runs a process, and names it', () => {
    const sys = boot({ kind: 'mesh', dims: [6] });
    sys.launchDirect(busy, [3], []);
    const r = finish(sys, start(sys, { ranks: 5 }));
    expect(r.job.status).toBe('failed');
    expect(r.yod?.stderr).toMatch(/rank 3: node busy: pid 1 \(busy\) is running/);
    expect(r.ranks.find((k) => k.rank === 3)?.reason).toMatch(/node busy/);
    expect(sys.kernel(3).jobs.refusals).toHaveLength(1);
  });

  it('ends a load whose node is down, naming the node, instead of hanging', () => {
    const sys = boot({ kind: 'mesh', dims: [4, 4] });
    sys.machine.network.setNodeDown(10, true);
    const r = finish(sys, start(sys, { ranks: 15 }));
    expect(r.job.status).toBe('failed');
    expect(r.yod?.stderr).toMatch(/node 10 is down/);
  });

  it('times out on a node that never answers and names it', () => {
    const sys = boot({ kind: 'mesh', dims: [3, 3] });
    sys.kernel(6).jobs.silent = true;
    const r = finish(sys, start(sys, { ranks: 8 }));
    expect(r.job.status).toBe('failed');
    expect(r.yod?.stderr).toMatch(/rank 6: no answer from node 6 \(timeout\)/);
    expect(r.phases_ns!.load).toBeGreaterThanOrEqual(100e6);
    expect(r.phases_ns!.load).toBeLessThan(200e6 + 1e6);
  });

  it('detects an image corrupted in transit by its hash and NACKs it', () => {
    const sys = boot({ kind: 'mesh', dims: [3, 3] });
    sys.machine.corruptInTransit(1, 512);
    const r = finish(sys, start(sys, { ranks: 8 }));
    expect(sys.machine.corrupted).toBe(1);
    expect(r.job.status).toBe('failed');
    expect(r.yod?.stderr).toMatch(/rank 0: bad image: content hash mismatch/);
  });

  it('detects a corrupted executable fetched by init before anything runs', () => {
    const sys = boot({ kind: 'mesh', dims: [3, 3] });
    const r = finish(sys, start(sys, { ranks: 8, corrupt: 300 }));
    expect(r.job.status).toBe('failed');
    expect(r.yod?.stderr).toMatch(/bad executable: content hash mismatch/);
    expect(r.ranks.every((k) => k.stdout === '')).toBe(true);
  });

  it('answers app status with every CPU context, and app kill affirmatively, 1-to-n from the service node', () => {
    const sys = boot({ kind: 'mesh', dims: [3, 3] });
    const job = start(sys, { ranks: 8, programs: [busy] });
    sys.run({ until: 5e9, done: () => sys.mainTimes(job).lastMain >= 0 && sys.rankStates(job).every((s) => s.process?.name === 'busy') });
    const st = sys.control(job, 'status');
    expect(st.answered).toBe(8);
    const dump = st.replies.map((m) => new TextDecoder().decode(m.payload)).join('');
    for (let rank = 0; rank < 8; rank++) expect(dump).toMatch(new RegExp(`rank ${rank} pid 100 \\(busy\\) tid \\d+ core 0 \\w+: rip=0x`));
    const kill = sys.control(job, 'kill');
    expect(kill.replies.filter((m) => m.header.type === 'kill-ack' && m.header.code === 1)).toHaveLength(8);
    const r = finish(sys, job);
    expect(r.job.status).toBe('failed');
    expect(r.ranks.every((k) => k.exit_status === 137 && /killed by app kill from node 8/.test(k.reason ?? ''))).toBe(true);
    expect(r.yod?.stderr).toMatch(/8 of 8 rank\(s\) failed; first: rank 0 with status 137/);
  });

  it('honours app kill only from the job\'s user or root', () => {
    const sys = boot({ kind: 'mesh', dims: [3, 3] });
    const job = start(sys, { ranks: 8, programs: [busy] });
    sys.run({ until: 5e9, done: () => sys.rankStates(job).every((s) => s.process?.name === 'busy') });
    // Another user on the service node tries to kill rank 4's process.
    const intruder = program('intruder', function* (env) {
      yield* env.sys.kmsgSend({ type: 6, dstNid: 4, dstPid: 100, rank: 4, jobId: 1, payload: 0, payloadLen: 0, imageLen: 0, jobSize: 8 });
      yield* env.sys.nanosleep(1e6);
      return 0;
    });
    sys.kernel(8).spawn(intruder, { rank: 0, jobSize: 1, uid: 4242, argv: ['intruder'], envp: [] });
    sys.run({ until: sys.now + 2e9 });
    expect(sys.rankState(job, 4).process?.alive).toBe(true);
    sys.control(job, 'kill');
    expect(sys.rankState(job, 4).process?.alive).toBe(false);
  });

  it('reports a rank that faults: the job fails with that rank\'s reason, and exit status still fans in', () => {
    const sys = boot({ kind: 'mesh', dims: [3, 3] });
    const faulty = program('faulty', function* main(env) {
      if ((yield* env.sys.getrank()) === 5) yield* env.mem.loadU64(0x10);
      return 0;
    });
    const r = finish(sys, start(sys, { ranks: 8, programs: [faulty] }));
    expect(r.job.status).toBe('failed');
    expect(r.ranks[5].reason).toMatch(/page fault/);
    expect(r.yod?.results.ranks_exited).toBe(8);
    expect(r.yod?.results.ranks_failed).toBe(1);
  });

  it('gives the same report and trace for the same seed', () => {
    const once = () => {
      const sys = boot({ kind: 'mesh', dims: [4, 4] }, 5);
      sys.trace.enabled = true;
      const { host: _h, ...rest } = finish(sys, start(sys, { ranks: 15, fanout: { kind: 'tree', arity: 2 } }));
      return rest;
    };
    expect(once()).toEqual(once());
  });
});
