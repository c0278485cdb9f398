// The kernel DSM as a user meets it: the documented example runs under
// `margay run`, a fault can be stepped through in the monitor with every
// node's view of the page, and the same seed gives the same run.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MonitorSession } from '../../monitor/session.ts';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';
import { runJob } from './helpers.ts';

describe('the kernel DSM for a user', () => {
  it('runs the documented example (examples/dsm/kernel-counter.ts) on 4 nodes: the counter is exact', () => {
    const r = spawnSync(process.execPath, ['bin/margay.js', 'run', './examples/dsm/kernel-counter.ts', '--nodes', '4', '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.job.status).toBe('completed');
    expect(JSON.stringify(rep)).toMatch(/"total":40/);
  }, 60_000);

  it('steps a read fault: dsm/fault, dsm/request, the manager serves, dsm/grant, and info dsm shows each node', async () => {
    const s = new MonitorSession();
    await s.exec('boot --nodes 4');
    await s.exec('load ./examples/dsm/kernel-counter.ts --ranks 3 -- 2');
    await s.exec('break dsm/fault');
    const stop = await s.exec('continue');
    expect(stop.join('\n')).toMatch(/dsm\/fault  page 0 \(0x200000000000\) read, have none/);
    expect((await s.exec('info dsm 0')).join('\n')).toMatch(/page 0 at 0x200000000000, manager rank 0: owner none \(zero page\), copies none\n    rank 0 node 0: none\n    rank 1 node 1: none\n    rank 2 node 2: none/);
    await s.exec('delete');
    await s.exec('break dsm/grant');
    expect((await s.exec('continue')).join('\n')).toMatch(/node 1 core 0 +dsm\/grant  page 0 read at rank 1/);
    expect((await s.exec('info dsm 0')).join('\n')).toMatch(/busy \(read for rank 1\)\n    rank 0 node 0: none\n    rank 1 node 1: read, 1 thread\(s\) waiting/);
    // The fault's own steps, in order: on node 1, then on the manager's node 0, then node 1 again.
    const path = s.system.trace
      .last()
      .filter((r) => r.path === 'dsm' && r.detail.includes('page 0'))
      .map((r) => `${r.node}:${r.step}`);
    expect(path.slice(path.indexOf('1:fault'))).toEqual(['1:fault', '1:request', '0:serve', '1:grant']);
    await s.exec('delete');
    expect((await s.exec('continue'))[0]).toMatch(/stopped: job finished/);
    expect((await s.exec('info dsm 7')).join('\n')).toMatch(/^region of the job of node 0 pid 100 \(uid 1000\): 3 rank\(s\), 1 page\(s\) at 0x200000000000\n  no such page$/);
    // Once every rank's detach has been counted, every node frees its frames.
    await s.exec('step 2000');
    expect(await s.exec('info dsm')).toEqual(['no DSM region on the booted nodes']);
  }, 60_000);

  it('gives the same trace and results for the same seed', () => {
    const once = () => {
      const sys = boot({ nodes: 4, cores: 2, seed: 7 });
      const prog = program('dsm-det', function* (env) {
        const rank = Number(yield* env.sys.getrank());
        const d = yield* openDsm(env, 'kernel', 2 * 4096);
        for (let i = 0; i < 20; i++) {
          yield* d.lock(i % 2);
          const a = d.base + (i % 2) * 4096;
          yield* env.mem.storeU64(a, (yield* env.mem.loadU64(a)) + BigInt(rank + 1));
          yield* d.unlock(i % 2);
        }
        yield* d.barrier();
        const s = yield* d.stats();
        yield* env.sys.publish('faults', s.faults);
        yield* env.sys.publish('sum', Number((yield* env.mem.loadU64(d.base)) + (yield* env.mem.loadU64(d.base + 4096))));
        yield* d.barrier();
        return 0;
      });
      const { job } = runJob(sys, prog, 4);
      return { hash: sys.trace.hash, count: sys.trace.count, results: job.ranks.map((r) => Object.fromEntries(r.process!.results)) };
    };
    const a = once();
    const b = once();
    expect(a).toEqual(b);
    expect(a.results[0].sum).toBe(20 * (1 + 2 + 3 + 4));
  });
});
