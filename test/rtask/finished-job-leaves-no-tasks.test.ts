// A finished job's tasks leave every node once their tear-down completes:
// info rtask no longer lists them, their job id is free for a later job, and
// no page or attach request can be answered from their released frames.
import { expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { launch } from '../../monitor/launch.ts';
import { System } from '../../system/system.ts';
import { APPS } from '../../userland/apps/index.ts';
import { DEFAULT_RTASK } from '../../userland/lib/rtask.ts';

it('forgets a finished job on every node once its tasks are torn down', () => {
  const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [9] }, seed: 1, transport: 'dipc' });
  sys.trace.enabled = false;
  const job = launch(sys, {
    load: 'crtc', fanout: { kind: 'binomial' }, programs: [APPS.hello], map: [{ firstNid: 0, count: 8, image: 0 }], argv: [], timeoutUs: 10_000_000,
    rtask: { ...DEFAULT_RTASK, algorithm: 'crtc', creation: 'tree', paging: 'tree', vmAreas: 3 },
  });
  sys.run({ done: () => sys.jobDone(job), until: 100e12 });
  expect(sys.jobDone(job)).toBe(true);
  // Every node held a task while the job ran.
  expect(Array.from({ length: 9 }, (_, nid) => sys.kernel(nid).rtask.stats.created).reduce((a, b) => a + b)).toBeGreaterThanOrEqual(8);
  sys.run({ done: () => false, until: sys.engine.now + 1e12 });
  const left = Array.from({ length: 9 }, (_, nid) => [nid, sys.kernel(nid).rtask.tasks.size + sys.kernel(nid).rtask.sources.size]).filter(([, n]) => n > 0);
  expect(left).toEqual([]);
});
