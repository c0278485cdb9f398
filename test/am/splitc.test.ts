// Split-C on Active Messages, and the seed's matrix multiply: global
// pointers move the right bytes on both transports, the multiply's C is
// right, and double buffering buys a larger fraction of peak.

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { splitcStart } from '../../userland/lib/am/splitc.ts';
import { APPS } from '../../userland/apps/index.ts';
import { TRANSPORTS, runAm } from './harness.ts';

function matmul(ranks: number, argv: string[]) {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [ranks] }, seed: 1 });
  sys.trace.enabled = false;
  const job = sys.launchDirect(APPS.splitc_matmul, Array.from({ length: ranks }, (_, i) => i), argv);
  sys.run({ done: () => sys.jobDone(job), until: 1e12 });
  return { statuses: job.ranks.map((r) => r.process!.exitStatus), results: Object.fromEntries(job.ranks[0].process!.results) };
}

describe.each(TRANSPORTS)('Split-C over %s', (name) => {
  it('gets, puts and stores through global pointers: every rank ends with its neighbours\' bytes', () => {
    const r = runAm(name, 3, function* (env, t) {
      const sc = yield* splitcStart(env, t);
      const mine = yield* sc.alloc(10_000);
      const got = yield* sc.alloc(10_000);
      const put = yield* sc.alloc(10_000);
      const stored = yield* sc.alloc(64);
      yield* env.mem.store(mine, Uint8Array.from({ length: 10_000 }, (_, i) => (i * (sc.rank + 3)) & 0xff));
      yield* sc.barrier();
      const right = (sc.rank + 1) % sc.size;
      yield* sc.get({ rank: right, addr: mine }, got, 10_000);
      yield* sc.put({ rank: right, addr: put }, mine, 10_000);
      yield* sc.sync();
      yield* sc.store({ rank: right, addr: stored }, mine, 64);
      yield* sc.storeSync(64);
      yield* sc.barrier();
      const check = (bytes: Uint8Array, rank: number) => bytes.every((b, i) => b === ((i * (rank + 3)) & 0xff));
      const left = (sc.rank + sc.size - 1) % sc.size;
      yield* env.sys.publish('ok', check(yield* env.mem.load(got, 10_000), right) && check(yield* env.mem.load(put, 10_000), left) && check(yield* env.mem.load(stored, 64), left) ? 1 : 0);
      yield* sc.am.flush();
    });
    expect(r.ranks.map((x) => [x.status, x.results.ok])).toEqual([[0, 1], [0, 1], [0, 1]]);
  });

  it('multiplies right, and with overlap reaches a larger fraction of peak than without at m = 16', () => {
    const r = matmul(4, [name, '16']);
    expect(r.statuses).toEqual([0, 0, 0, 0]);
    expect(r.results.verified).toBe(1);
    expect(r.results.peak_fraction_m16).toBeGreaterThan(r.results.peak_fraction_m16_nooverlap);
    expect(r.results.peak_fraction_m16).toBeLessThanOrEqual(1);
  });
});

describe('splitc_matmul', () => {
  it('reaches a larger fraction of peak as the block grows', () => {
    const r = matmul(4, ['unet', 'overlap', '4', '32']);
    expect(r.results.verified).toBe(1);
    expect(r.results.peak_fraction_m32).toBeGreaterThan(r.results.peak_fraction_m4);
  });

  it('refuses a bad argument with a one-line message and status 2', () => {
    const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [2] }, seed: 1 });
    const job = sys.launchDirect(APPS.splitc_matmul, [0, 1], ['abc']);
    sys.run({ done: () => sys.jobDone(job), until: 1e12 });
    expect(job.ranks[0].process!.exitStatus).toBe(2);
  });
});
