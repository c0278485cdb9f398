// Handler invocation on a busy receiver (busy_handler, bench busy_handler):
// the figures come from real runs, and they move the way the mechanisms say
// they must: a longer polling period makes a request wait longer and costs
// the work less; the upcall and the extension answer without waiting for a poll.

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { busyRun } from '../../bench/busyhandler.ts';
import { APPS } from '../../userland/apps/index.ts';

describe('a request to a busy receiver', () => {
  const poll = [5, 20, 100, 500].map((p) => busyRun('redstorm', `poll:${p}`));

  it('waits longer when the receiver polls every larger P us of work', () => {
    for (let i = 1; i < poll.length; i++) expect(poll[i].round_trip_ns).toBeGreaterThan(poll[i - 1].round_trip_ns);
  });

  it('costs the receiver less work when it polls less often', () => {
    expect(poll[0].lost_compute_ns).toBeGreaterThan(poll.at(-1)!.lost_compute_ns);
    for (const r of poll) expect(r.lost_compute_ns).toBeGreaterThan(0);
  });

  it('is answered by the upcall and by a kernel extension without waiting for a poll of 100 us', () => {
    const upcall = busyRun('redstorm', 'upcall');
    const ext = busyRun('redstorm', 'ext');
    for (const r of [upcall, ext]) {
      expect(r.round_trip_ns).toBeGreaterThan(0);
      expect(r.round_trip_ns).toBeLessThan(poll[2].round_trip_ns);
      // Both take the core from the work in an interrupt: the receiver loses compute.
      expect(r.lost_compute_ns).toBeGreaterThan(0);
    }
  });

  it('refuses an unknown mode with exit status 2', () => {
    for (const mode of ['poll:0', 'poll:x', 'spin']) {
      const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [2] }, seed: 1 });
      const job = sys.launchDirect(APPS.busy_handler, [0, 1], [mode]);
      sys.run({ done: () => sys.jobDone(job), until: 60e12 });
      expect(job.ranks.map((r) => r.process?.exitStatus)).toEqual([2, 2]);
    }
  });
});
