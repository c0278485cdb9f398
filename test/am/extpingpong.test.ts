// ext_pingpong: a Portals put answered by a kernel extension's `reply`, so
// no user process runs on the receiver. Its round trip is measured from a
// real run: the handler ran once per put, the answer carried the payload
// back, and the time sits above zero and below the user-process pingpong.

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { APPS } from '../../userland/apps/index.ts';

function run(app: string, argv: string[], profile = 'redstorm') {
  const sys = new System({ profile: getProfile(profile), shape: { kind: 'mesh', dims: [2] }, seed: 1 });
  sys.trace.enabled = false;
  const job = sys.launchDirect(APPS[app], [0, 1], argv);
  sys.run({ done: () => sys.jobDone(job), until: 60e12 });
  for (const r of job.ranks) expect(r.process?.exitStatus, r.process?.exitReason ?? '').toBe(0);
  return { r0: job.ranks[0].process!.results, r1: job.ranks[1].process!.results };
}

describe('ext_pingpong (a put answered by a kernel extension)', () => {
  it('runs the handler once per put: 11 exchanges (one warm-up) per size', () => {
    const { r1 } = run('ext_pingpong', ['0', '4096']);
    expect(r1.get('ext_runs')).toBe(22);
  });

  it('answers faster than a user process and slower than nothing, on every profile', () => {
    for (const profile of ['redstorm', 'paragon', 'modern', 'atm95']) {
      const ext = run('ext_pingpong', ['0', '1024'], profile).r0;
      const user = run('pingpong', ['0', '1024'], profile).r0;
      for (const s of [0, 1024]) {
        expect(ext.get(`latency_ns_${s}`)!, `${profile} ${s} B`).toBeGreaterThan(0);
        expect(ext.get(`latency_ns_${s}`)!, `${profile} ${s} B`).toBeLessThan(user.get(`latency_ns_${s}`)!);
      }
      expect(ext.get('zero_byte_latency_ns')).toBe(ext.get('latency_ns_0'));
    }
  });

  it('a bigger answer takes longer (the payload really travels back)', () => {
    const { r0 } = run('ext_pingpong', ['0', '4096']);
    expect(r0.get('latency_ns_4096')!).toBeGreaterThan(r0.get('latency_ns_0')!);
  });

  it('refuses a size over 4 KiB with a clear message and exit status 2', () => {
    const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [2] }, seed: 1 });
    const job = sys.launchDirect(APPS.ext_pingpong, [0, 1], ['5000']);
    sys.run({ done: () => sys.jobDone(job), until: 60e12 });
    expect(job.ranks[0].process?.exitStatus).toBe(2);
  });
});
