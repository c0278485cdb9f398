// Remote tasking end to end: margay's job launch by rtask_create (issue 14):
// ntc and crtc over flat, flat-mt and tree on both transports, copy on
// reference over flat and hierarchical paging trees, termination, failures.

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import type { PersonalityName } from '../../kernel/ipc/personality.ts';
import { launch } from '../../monitor/launch.ts';
import { buildReport } from '../../monitor/report.ts';
import { type Job, type OnFailure, System } from '../../system/system.ts';
import { APPS } from '../../userland/apps/index.ts';
import { DEFAULT_RTASK, type RtaskChoice } from '../../userland/lib/rtask.ts';
import { program } from '../../userland/lib/runtime.ts';

function boot(nodes: number, transport: PersonalityName = 'dipc', profile = 'paragon'): System {
  const sys = new System({ profile: getProfile(profile), shape: { kind: 'mesh', dims: [nodes + 1] }, seed: 1, transport });
  sys.trace.enabled = false;
  return sys;
}

function start(sys: System, ranks: number, rtask: Partial<RtaskChoice> = {}, o: { app?: keyof typeof APPS; argv?: string[]; terminate?: boolean; timeoutUs?: number; onFailure?: OnFailure } = {}): Job {
  return launch(sys, {
    load: 'crtc',
    fanout: { kind: 'binomial' },
    programs: [APPS[o.app ?? 'hello']],
    map: [{ firstNid: 0, count: ranks, image: 0 }],
    argv: o.argv ?? [],
    timeoutUs: o.timeoutUs ?? 10_000_000,
    rtask: { ...DEFAULT_RTASK, ...rtask },
    terminate: o.terminate,
    onFailure: o.onFailure,
  });
}

function finish(sys: System, job: Job, until = 100e12) {
  const stop = sys.run({ done: () => sys.jobDone(job), until });
  return buildReport(sys, job, stop, null, 0);
}

const SHAPES = [
  { algorithm: 'ntc', creation: 'flat', paging: 'flat' },
  { algorithm: 'crtc', creation: 'flat', paging: 'flat' },
  { algorithm: 'crtc', creation: 'flat-mt', paging: 'flat' },
  { algorithm: 'ntc', creation: 'tree', paging: 'tree' },
  { algorithm: 'crtc', creation: 'tree', paging: 'tree' },
  { algorithm: 'crtc', creation: 'tree', paging: 'flat' },
] as const;

describe('run --load crtc', () => {
  for (const transport of ['dipc', 'norma'] as const) {
    for (const s of SHAPES) {
      it(`launches hello on 7 ranks with ${s.algorithm} over ${s.creation} (paging ${s.paging}, ${transport}): every rank runs with its own rank, phases as for the loader`, () => {
        const sys = boot(7, transport);
        const r = finish(sys, start(sys, 7, { ...s, vmAreas: 5 }));
        expect(r.job.status).toBe('completed');
        expect(r.ranks.map((k) => k.stdout)).toEqual(Array.from({ length: 7 }, (_, i) => `hello from rank ${i} of 7 on node ${i} core 0, pid 100\n`));
        expect(r.yod?.stdout).toMatch(/7 rank\(s\) loaded and exited with status 0/);
        for (const v of Object.values(r.phases_ns!)) expect(v).toBeGreaterThan(0);
      });
    }
  }

  it('creates faster with crtc\'s algorithm than with ntc, and faster still over the tree on DIPC', () => {
    const load = (s: Partial<RtaskChoice>) => {
      const sys = boot(15);
      return finish(sys, start(sys, 15, { ...s, vmAreas: 12 })).phases_ns!.load!;
    };
    const ntc = load({ algorithm: 'ntc', creation: 'flat', paging: 'flat' });
    const crtcFlat = load({ algorithm: 'crtc', creation: 'flat', paging: 'flat' });
    const tree = load({ algorithm: 'crtc', creation: 'tree', paging: 'tree' });
    expect(crtcFlat).toBeLessThan(ntc);
    expect(tree).toBeLessThan(crtcFlat / 2);
  });

  it('does not copy pages at creation: a task\'s data pages come on first touch, from its pager, with the image\'s bytes', () => {
    const sys = boot(3);
    const job = start(sys, 3, { creation: 'flat', paging: 'flat' }, { app: 'cor_touch', argv: ['pages=20'] });
    sys.run({ done: () => sys.kernel(0).rtask.tasks.get(1)?.process !== null && sys.kernel(2).jobs.records.has(1), until: 100e12 });
    const t = sys.kernel(0).rtask.tasks.get(1)!;
    const dataVa = t.tpl.areas[1].start;
    expect(t.process!.aspace.pt.translate(dataVa).ok).toBe(false);
    const r = finish(sys, job);
    expect(r.job.status).toBe('completed');
    expect(r.results.bad_pages.max).toBe(0);
    expect([...t.installed[1]!.subarray(0, 20)].every((x) => x === 1)).toBe(true);
    const fetched = [0, 1, 2].map((n) => sys.kernel(n).rtask.stats.pagesFetched);
    expect(fetched).toEqual([20, 20, 20]);
    expect(sys.kernel(3).rtask.stats.pagesServed).toBe(60);
  });

  it('serves a hierarchical paging tree from the nodes on the way: the source serves only its two children, a parent keeps the pages it fetched', () => {
    const sys = boot(7);
    const r = finish(sys, start(sys, 7, { creation: 'tree', paging: 'tree' }, { app: 'cor_touch', argv: ['pages=10'] }));
    expect(r.job.status).toBe('completed');
    expect(r.results.bad_pages.max).toBe(0);
    // Every rank touches the same 10 pages: the source serves them to ranks 0 and 1 only.
    expect(sys.kernel(7).rtask.stats.pagesServed).toBe(20);
    // Rank 0 serves its children 2 and 3 from the copies it kept.
    expect(sys.kernel(0).rtask.stats.pagesServed).toBe(20);
    expect(sys.kernel(0).rtask.stats.pagesFetched).toBe(10);
  });

  it('fetches a page once per node however many threads and children want it at once', () => {
    const sys = boot(7);
    finish(sys, start(sys, 7, { creation: 'tree', paging: 'tree' }, { app: 'cor_touch', argv: ['pages=5'] }));
    for (let n = 0; n < 7; n++) expect(sys.kernel(n).rtask.stats.pagesFetched).toBe(5);
  });

  it('tears down every node\'s VM objects after the job, leaves first, detaching each from its pager', () => {
    const sys = boot(7);
    finish(sys, start(sys, 7, { creation: 'tree', paging: 'tree', vmAreas: 6 }, { app: 'cor_touch', argv: ['pages=3'] }));
    sys.run({ until: sys.now + 10e12 });
    for (let n = 0; n < 7; n++) expect(sys.kernel(n).rtask.tasks.has(1)).toBe(false); // torn down and forgotten
    // 6 areas, 5 of them paged (bss is zero-fill): 5 detaches per task, each at its pager.
    const detaches = [...Array(8).keys()].reduce((a, n) => a + sys.kernel(n).rtask.stats.detaches, 0);
    expect(detaches).toBe(7 * 5);
    expect(sys.kernel(7).rtask.sources.size).toBe(0);
  });

  it('terminates created tasks one after another and returns when every object is gone', () => {
    const sys = boot(7);
    const job = start(sys, 7, { creation: 'tree', paging: 'tree' }, { terminate: true });
    const r = finish(sys, job);
    expect(r.yod?.stdout).toMatch(/7 task\(s\) created, 7 terminated/);
    expect(r.yod?.results.rtask_terminate_ns).toBeGreaterThan(0);
    for (const k of r.ranks) expect(k.exit_status).toBe(143);
    // When it returns the source's objects are gone: every node has detached (the last answer is on its way).
    expect(sys.kernel(7).rtask.sources.size).toBe(0);
    sys.run({ until: sys.now + 1e9 });
    for (let n = 0; n < 7; n++) expect(sys.kernel(n).rtask.tasks.has(1)).toBe(false); // torn down and forgotten
  });

  it('fails the creation naming a down node, and tears down the tasks already created', () => {
    for (const s of SHAPES) {
      const sys = boot(7);
      sys.machine.network.setNodeDown(5, true);
      const r = finish(sys, start(sys, 7, s));
      expect(r.job.status).toBe('failed');
      expect(r.yod?.stderr).toMatch(/rank 5: node 5 unreachable/);
      expect(r.phases_ns!.load).toBeLessThan(1e9);
      for (const n of [0, 1, 2, 3, 4, 6]) {
        const t = sys.kernel(n).rtask.tasks.get(1);
        if (t !== undefined) expect(t.process?.alive).toBe(false);
        expect(sys.kernel(n).liveProcesses()).toEqual([]);
      }
    }
  });

  it('fails the creation with the refusing node\'s own reason (a busy node says which process runs there)', () => {
    for (const s of [SHAPES[0], SHAPES[4]]) {
      const sys = boot(7);
      const sleeper = program('sleeper', function* main(env) {
        yield* env.sys.nanosleep(10e9);
        return 0;
      });
      sys.launchDirect(sleeper, [4], []);
      const r = finish(sys, start(sys, 7, s));
      expect(r.job.status).toBe('failed');
      expect(r.yod?.stderr).toMatch(/rank 4: node 4: node busy: pid \d+ \(sleeper\) is running/);
    }
  });

  it('fails the creation naming a hung node when it stops answering, instead of hanging', () => {
    for (const s of [SHAPES[1], SHAPES[4]]) {
      const sys = boot(7);
      sys.hangKernel(3);
      const r = finish(sys, start(sys, 7, s, { timeoutUs: 200_000 }));
      expect(r.job.status).toBe('failed');
      expect(r.yod?.stderr).toMatch(/rank 3: no answer from node 3 \(timeout: nothing from it, not even an answer to a liveness probe, for 200\.000 ms; --load-timeout gives more\)/);
      // The creation gives up when a probe goes unanswered, then tears down what it made (a hung node gets one more slice).
      expect(r.phases_ns!.load).toBeLessThan(300e6);
      for (const n of [0, 1, 2, 4, 5, 6]) expect(sys.kernel(n).liveProcesses()).toEqual([]);
    }
  });

  it('loads a healthy plan that takes longer than its --load-timeout: only a node that stops answering is given up', () => {
    // ntc creates a tree of 31 tasks one round trip at a time: the load takes several times the timeout,
    // which once gave the deepest nodes a sliver of it and blamed a healthy node.
    const sys = boot(31);
    const r = finish(sys, start(sys, 31, { algorithm: 'ntc', creation: 'tree', paging: 'tree' }, { timeoutUs: 20_000 }));
    expect(r.job.status).toBe('completed');
    expect(r.phases_ns!.load).toBeGreaterThan(3 * 20e6);
  });

  it('kills a task whose pager died before it paged in, with the reason', () => {
    const sys = boot(7);
    // --on-failure continue: yod would otherwise kill rank 3 (app kill) as soon as rank 2's page-in fails.
    const job = start(sys, 7, { creation: 'tree', paging: 'tree' }, { app: 'cor_touch', argv: ['pages=4', 'sleep_us=50000'], onFailure: 'continue' });
    sys.run({ done: () => job.yod!.results.has('yod_go_at_ns') && sys.kernel(2).rtask.tasks.get(1)!.started && sys.kernel(3).rtask.tasks.get(1)!.started, until: 100e12 });
    // The tasks' entries go when they are torn down: hold on to their processes.
    const procs = new Map([2, 3].map((rank) => [rank, sys.kernel(rank).rtask.tasks.get(1)!.process!]));
    sys.machine.network.setNodeDown(0, true);
    sys.run({ until: sys.now + 50e12 });
    for (const rank of [2, 3]) {
      const p = procs.get(rank)!;
      expect(p.exitStatus).toBe(135);
      expect(p.exitReason).toMatch(/copy-on-reference page-in of 0x[0-9a-f]+ failed: pager node 0: node 0 unreachable/);
    }
  });

  it('gives the same report and trace for the same seed', () => {
    const once = () => {
      const sys = boot(6, 'norma');
      sys.trace.enabled = true;
      const r = finish(sys, start(sys, 6, { creation: 'tree', paging: 'tree', nms: true }, { app: 'cor_touch', argv: ['pages=6'] }));
      return { phases: r.phases_ns, results: r.results, hash: sys.trace.hash };
    };
    expect(once()).toEqual(once());
  });
});
