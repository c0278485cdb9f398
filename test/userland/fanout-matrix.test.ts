// The fan-out matrix's other parts: the collective apps' user-level modes on
// every fan-out, the programming guide's example, and more ranks than the old
// event queue held. Every app on every fan-out is in fanout-matrix-*.test.ts.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { launch } from '../../monitor/launch.ts';
import { resolveProgram } from '../../monitor/programs.ts';
import { buildReport } from '../../monitor/report.ts';
import { type Fanout, formatFanout } from '../../userland/lib/jobblock.ts';
import { FANOUTS, runJob } from './fanoutmatrix.ts';

describe('the collective apps in their user-level modes (a handler thread in irq mode)', () => {
  for (const app of ['allsum', 'bcast', 'steal']) {
    for (const mode of ['poll', 'irq']) {
      for (const fanout of FANOUTS) {
        it(`runs ${app} ${mode} on 8 ranks over ${formatFanout(fanout)} with every rank exiting 0`, () => {
          const r = runJob(app, 8, fanout, [mode]);
          expect(r.job.status, r.ranks.map((k) => k.reason ?? '').join(' ')).toBe('completed');
          expect(r.job.exit_status_counts).toEqual({ '0': 8 });
        });
      }
    }
  }
});

describe("the programming guide's example", () => {
  for (const fanout of [{ kind: 'flat' }] as Fanout[]) {
    it(`runs on 64 ranks over ${formatFanout(fanout)} (the command line docs/WRITING-PROGRAMS.md lists)`, async () => {
      const doc = readFileSync('docs/WRITING-PROGRAMS.md', 'utf8');
      const code = /```ts\n([\s\S]*?)```/.exec(doc)![1].replaceAll("'./userland/", `'${process.cwd()}/userland/`);
      const file = join(mkdtempSync(join(tmpdir(), 'margay-doc-')), 'myprog.ts');
      writeFileSync(file, code);
      const prog = await resolveProgram(file);
      const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [65] }, seed: 1 });
      sys.trace.enabled = false;
      const job = launch(sys, { load: 'two-phase', fanout, programs: [prog], map: [{ firstNid: 0, count: 64, image: 0 }], argv: [], timeoutUs: 1_000_000 });
      const stop = sys.run({ done: () => sys.jobDone(job), until: 10e12 });
      const r = buildReport(sys, job, stop, fanout, 0);
      expect(r.job.status).toBe('completed');
      expect(r.job.exit_status_counts).toEqual({ '0': 64 });
    });
  }
});

describe('more ranks than the old 256-entry event queue (found by a newcomer: every gather of 258+ ranks hung)', () => {
  // barrier-only: its gather is the one ring and pingpong use too. 258 ranks, the
  // fewest that hung (it was 300: the same check, 14 % less work).
  for (const app of ['barrier-only']) {
    it(`runs ${app} on 258 ranks over binomial with every rank exiting 0`, () => {
      const r = runJob(app, 258, { kind: 'binomial' });
      expect(r.job.status, r.ranks.map((k) => k.stderr).join('')).toBe('completed');
      expect(r.job.exit_status_counts).toEqual({ '0': 258 });
    });
  }
});
