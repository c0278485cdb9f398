import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { buildReport } from '../../monitor/report.ts';
import { APPS } from '../../userland/apps/index.ts';

function run(seed: number, trace: boolean, app = 'tlbstale') {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [2, 2] }, seed });
  sys.trace.enabled = trace;
  const job = sys.launchDirect(APPS[app], [0, 1, 2, 3], []);
  const stop = sys.run({ done: () => sys.jobDone(job) });
  const { host: _host, trace: t, ...report } = buildReport(sys, job, stop, null, 0);
  return { report, hash: t.hash, steps: t.steps };
}

describe('determinism', () => {
  it('gives the same report and trace hash for the same seed', () => {
    const a = run(7, true);
    const b = run(7, true);
    expect(a.report).toEqual(b.report);
    expect(a.hash).toBe(b.hash);
  });

  it('gives the same simulated results with tracing on or off', () => {
    const on = run(3, true, 'sysexercise');
    const off = run(3, false, 'sysexercise');
    expect(off.report).toEqual(on.report);
    expect(off.steps).toBe(on.steps);
  });
});
