// A kernel makes its Portals driver, job control, DSM and IPC (with ports
// and remote tasking) when something first uses them: a large machine's
// idle nodes hold none of them, and one made late behaves as one made at boot.

import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../kernel/errno.ts';
import type { Kernel } from '../../kernel/kernel.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { launch } from '../../monitor/launch.ts';
import { APPS } from '../../userland/apps/index.ts';
import { boot } from './helpers.ts';

const LAZY = ['portals', 'jobs', 'dsm', 'ipc', 'ports', 'rtask'] as const;
const made = (k: Kernel) => LAZY.filter((n) => k.existing(n) !== undefined);

describe('kernel subsystems made on first use', () => {
  it('leaves a booted, idle node without any of them', () => {
    const sys = boot({ nodes: 4 });
    for (let nid = 0; nid < 4; nid++) sys.boot(nid);
    sys.run({ until: 1e9 });
    for (let nid = 0; nid < 4; nid++) expect(made(sys.kernel(nid))).toEqual([]);
  });

  it('makes none for a job that uses none of them, and its exit makes none either', () => {
    const sys = boot({ nodes: 3 });
    for (let nid = 0; nid < 3; nid++) sys.boot(nid);
    const job = sys.launchDirect(
      program('t', function* (env) {
        yield* env.sys.publish('rank', yield* env.sys.getrank());
      }),
      [0, 1],
      [],
    );
    sys.run({ done: () => sys.jobDone(job), until: 10e12 });
    expect(job.ranks.map((r) => r.process?.exitStatus)).toEqual([0, 0]);
    for (let nid = 0; nid < 3; nid++) expect(made(sys.kernel(nid))).toEqual([]);
  });

  it('makes job control and Portals for hello launched by yod, and no DSM or IPC', () => {
    // Node 5, the last, is the service node yod runs on; node 4 stays idle.
    const sys = boot({ nodes: 6, trace: false });
    for (let nid = 0; nid < 6; nid++) sys.boot(nid);
    const job = launch(sys, { load: 'two-phase', fanout: { kind: 'binomial' }, programs: [APPS.hello], map: [{ firstNid: 0, count: 4, image: 0 }], argv: [], timeoutUs: 10_000_000 });
    sys.run({ done: () => sys.jobDone(job), until: 60e12 });
    expect(sys.jobDone(job)).toBe(true);
    for (let nid = 0; nid < 4; nid++) expect(made(sys.kernel(nid))).toEqual(['portals', 'jobs']);
    expect(made(sys.kernel(4))).toEqual([]);
  });

  it('answers a port lookup on a node that never used IPC (its services are made with it)', () => {
    const sys = boot({ nodes: 3 });
    for (let nid = 0; nid < 3; nid++) sys.boot(nid);
    expect(made(sys.kernel(2))).toEqual([]);
    const job = sys.launchDirect(
      program('t', function* (env) {
        yield* env.sys.publish('lookup', yield* env.sys.raw(SYS.ipc_lookup, 2, 7, 0));
      }),
      [0],
      [],
    );
    sys.run({ done: () => sys.jobDone(job), until: 10e12 });
    const p = job.ranks[0].process!;
    expect(p.exitStatus).toBe(0);
    // The lookup service answered "nothing published" (not an unknown service or a lost request).
    expect(p.results.get('lookup')).toBe(-ERRNO.ENOENT);
    expect(made(sys.kernel(2))).toEqual(['ipc', 'ports', 'rtask']);
  });
});
