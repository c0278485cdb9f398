// The fan-out matrix's shared parts: every app on one fan-out, at 1, 7, 8
// and 64 ranks (fanout-matrix-*.test.ts, one file per fan-out so that the
// test workers share the matrix). A flat load starts the first ranks long
// before the last, so a program's start-up handshake must cope with peers
// that have no Portals interface yet (issue 11 item 2). Runs in-process;
// combinations an app cannot run are skipped by name.

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { launch } from '../../monitor/launch.ts';
import { buildReport } from '../../monitor/report.ts';
import type { UserProgram } from '../../kernel/abi.ts';
import { APPS } from '../../userland/apps/index.ts';
import { type Fanout, formatFanout } from '../../userland/lib/jobblock.ts';
import { barrier, setup } from '../../userland/lib/ptlapp.ts';
import { program } from '../../userland/lib/runtime.ts';

/** The smallest Portals program: set up, one barrier, exit. */
const barrierOnly = program('barrier-only', function* main(env) {
  const app = yield* setup(env, 64);
  yield* barrier(env, app);
  return 0;
});

export const FANOUTS: Fanout[] = [{ kind: 'flat' }, { kind: 'flat-concurrent' }, { kind: 'tree', arity: 4 }, { kind: 'binomial' }];
export const PROGRAMS: Record<string, UserProgram> = { ...APPS, 'barrier-only': barrierOnly };

/** Why an app cannot run on `ranks` ranks, or null when it can. */
function cannot(app: string, ranks: number): string | null {
  if (app === 'pingpong' && ranks !== 2) return 'pingpong needs exactly 2 ranks';
  if (app === 'ring' && ranks < 2) return 'ring needs at least 2 ranks';
  if (app.startsWith('unet_') && ranks < 2) return `${app} needs at least 2 ranks`;
  // The DSM apps start with the common Portals set-up and barrier (barrier-only covers that on every
  // fan-out); they run here once per fan-out at 7 ranks, to keep the matrix short.
  if (app.startsWith('dsm_') && ranks !== 7) return 'DSM apps run at 7 ranks only (their start-up is the barrier)';
  // busy_handler computes 16 ms of simulated work (2 s of host time a run): once per fan-out, at 7 ranks.
  if (app === 'busy_handler' && ranks !== 7) return 'busy_handler runs at 7 ranks only (16 ms of simulated work a run)';
  if ((app === 'am_pingpong' || app === 'ext_pingpong') && ranks < 2) return `${app} needs at least 2 ranks`;
  return null;
}

/**
 * At 64 ranks (to keep the matrix near a minute on 2 shared cores): one app
 * per start-up pattern -- the barrier (barrier-only; allreduce, bcast,
 * allsum and steal share it), the ready-to-rank-0 handshake (ring) and a
 * program with no Portals (hello). Every app runs at 1, 7 and 8.
 */
const AT_64 = new Set(['barrier-only', 'ring', 'allreduce', 'hello']);

/**
 * Arguments that shorten an app's work after its start-up, which is what
 * this matrix is about (the ranks leave the start-up barrier together, so the
 * work after it does not depend on the fan-out). splitc_matmul's default run
 * (four block widths, with and without overlap: 42 s of the matrix's 130 on
 * 2 loaded cores) stays on binomial at 7 and 8 ranks; the other fan-outs run
 * one block width, 4, with overlap, after the same start-up.
 */
function shortArgv(app: string, fanout: Fanout): string[] {
  return app === 'splitc_matmul' && fanout.kind !== 'binomial' ? ['unet', 'overlap', '4'] : [];
}

/**
 * The heaviest run of the matrix fires about 2 million events (splitc_matmul's
 * default run on 8 ranks): ten times that is a run that never ends. The test
 * timeout cannot stop a simulation, which never yields to the host's event
 * loop, so a hang must end here, as a failure with its report.
 */
const MAX_EVENTS = 20_000_000;

export function runJob(app: string, ranks: number, fanout: Fanout, argv: string[] = []) {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [ranks + 1] }, seed: 1 });
  sys.trace.enabled = false;
  const job = launch(sys, { load: 'two-phase', fanout, programs: [PROGRAMS[app]], map: [{ firstNid: 0, count: ranks, image: 0 }], argv, timeoutUs: 1_000_000 });
  const stop = sys.run({ done: () => sys.jobDone(job), until: 10e12, maxEvents: MAX_EVENTS });
  return buildReport(sys, job, stop, fanout, 0);
}

/** Declares the matrix's tests for one fan-out. */
export function everyAppOn(fanout: Fanout): void {
  describe(`every app over ${formatFanout(fanout)}`, () => {
    for (const app of Object.keys(PROGRAMS)) {
      for (const ranks of [1, 2, 7, 8, 64]) {
        if (ranks === 2 && app !== 'pingpong') continue;
        if (ranks === 64 && !AT_64.has(app)) continue;
        const why = cannot(app, ranks);
        const name = `${app} on ${ranks} rank(s) over ${formatFanout(fanout)}`;
        if (why !== null) {
          it.skip(`${name} (skipped: ${why})`, () => {});
          continue;
        }
        const argv = shortArgv(app, fanout);
        it(`runs ${name}${argv.length > 0 ? ` (${argv.join(' ')})` : ''} to completion with every rank exiting 0`, () => {
          const r = runJob(app, ranks, fanout, argv);
          expect(r.job.status, r.ranks.map((k) => k.stderr).join('')).toBe('completed');
          expect(r.job.exit_status_counts).toEqual({ '0': ranks });
          if (app === 'allreduce') expect(r.results.sum?.max).toBe((ranks * (ranks + 1)) / 2);
        });
      }
    }
  });
}
