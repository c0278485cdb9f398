// A pager node that stops answering after the start (hung, or brought
// down) must not leave the job hung: the faulting tasks are killed at the
// page-in timeout with a reason naming the pager's node, the source hears
// of it and ends the job, yod exits with that status and reason, and the
// source's template objects are freed (first review of #14).

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { PAGEIN_FAILED_STATUS, PAGEIN_TIMEOUT_PS } from '../../kernel/rtask/cor.ts';
import { launch } from '../../monitor/launch.ts';
import { System } from '../../system/system.ts';
import { APPS } from '../../userland/apps/index.ts';
import { DEFAULT_RTASK } from '../../userland/lib/rtask.ts';

describe('a pager node that stops answering after the start', () => {
  for (const transport of ['dipc', 'norma'] as const) {
    for (const fate of ['hung', 'down'] as const) {
      it(`kills the faulting tasks naming the pager's node and ends the job with their status, never a hang (${fate}, ${transport})`, () => {
        const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [5] }, seed: 1, transport });
        // --on-failure continue: this pins the source's end of the job; yod's own (end, the default) could kill
        // rank 3 by app kill before its page-in fails (test/launch/a-failed-rank-ends-the-job.test.ts).
        const job = launch(sys, { load: 'crtc', fanout: { kind: 'binomial' }, programs: [APPS.cor_touch], map: [{ firstNid: 0, count: 4, image: 0 }], argv: ['pages=8', 'sleep_us=200000'], timeoutUs: 1e6, rtask: { ...DEFAULT_RTASK }, onFailure: 'continue' });
        sys.run({ done: () => [0, 1, 2, 3].every((n) => [...sys.kernel(n).rtask.tasks.values()][0]?.started === true), until: 10e12 });
        sys.run({ until: sys.now + 1e9 });
        // The tasks' entries go when they are torn down: hold on to their processes.
        const procs = new Map([2, 3].map((n) => [n, [...sys.kernel(n).rtask.tasks.values()][0].process!]));
        // Rank 0's node is the pager (and the creator) of ranks 2 and 3.
        if (fate === 'hung') sys.hangKernel(0);
        else sys.machine.network.setNodeDown(0, true);
        const t0 = sys.now;
        sys.run({ done: () => sys.jobDone(job), until: sys.now + 200e12 });
        expect(sys.jobDone(job)).toBe(true);
        expect(sys.now - t0).toBeLessThan(PAGEIN_TIMEOUT_PS + 2e12);
        for (const n of [2, 3]) {
          const p = procs.get(n)!;
          expect(p.exitStatus).toBe(PAGEIN_FAILED_STATUS);
          expect(p.exitReason).toMatch(/copy-on-reference page-in of 0x[0-9a-f]+ failed: pager node 0: /);
        }
        expect(job.yod?.exitStatus).toBe(1);
        // The first task to report names the job's end (a hung node's own rank 0 may fail its page-in first: it hears no answer).
        expect(job.yod?.stderr.join('')).toMatch(/ended by its source: rank ([023]) failed with status 135:\n {2}rank \1: copy-on-reference page-in of 0x[0-9a-f]+ failed: pager node \d+: /);
        sys.run({ until: sys.now + 20e12 });
        // The source's template objects go once the job is over: a node that never answers cannot pin them.
        expect(sys.kernel(4).rtask.sources.size).toBe(0);
        for (const n of [1, 2, 3]) expect(sys.kernel(n).liveProcesses()).toEqual([]);
      });
    }
  }
});
