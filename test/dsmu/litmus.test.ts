// Litmus tests and the randomized SC checker on the user-level DSM, in
// both service modes, over several seeds of the access delays and of the
// machine: no SC-forbidden outcome, no checker violation. And the harness
// itself can fail: on a "DSM" without coherence (each rank its private
// copy) the litmus tests see forbidden outcomes.

import { describe, expect, it } from 'vitest';
import { LITMUS, runLitmus } from '../../userland/lib/dsm/litmus.ts';
import { type Dsm, openDsm } from '../../userland/lib/dsm/api.ts';
import { program } from '../../userland/lib/runtime.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';
import { APPS } from '../../userland/apps/index.ts';
import { runDsmJob, stderrOf } from './run.ts';

describe('litmus tests and the SC checker on both DSMs', () => {
  const cases: { impl: string[]; seed: number }[] = [
    { impl: ['user'], seed: 1 },
    { impl: ['user'], seed: 2 },
    { impl: ['user', 'poll'], seed: 3 },
    { impl: ['kernel'], seed: 5 },
    { impl: ['kernel'], seed: 6 },
    { impl: ['kernel'], seed: 7 },
  ];
  for (const { impl, seed } of cases) {
    it(`never shows an SC-forbidden outcome or a checker violation (${impl.join(' ')}, seed ${seed})`, () => {
      const r = runDsmJob(APPS.dsm_litmus, 4, [...impl, 'runs=2', `seed=${seed}`, 'ops=30', 'locations=6'], seed);
      expect(r.job.status, stderrOf(r)).toBe('completed');
      expect(r.results.runs?.max).toBe(2 * LITMUS.length);
      expect(r.results.forbidden?.max).toBe(0);
      expect(r.results.checked_ops?.max).toBe(4 * 30);
      expect(r.results.violations?.max).toBe(0);
    });
  }
});

/** x and y in memory with no coherence at all (each rank its own private pages); the registers go through the user DSM. */
const incoherent = program('incoherent-litmus', function* main(env) {
  const rank = yield* env.sys.getrank();
  const real = yield* openDsm(env, 'user', 4096);
  const base = yield* env.sys.mmap(0, 9 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  const dsm: Dsm = {
    base,
    bytes: 9 * 4096,
    *lock() {},
    *unlock() {},
    *barrier() {
      yield* real.barrier();
    },
    *detach() {},
    *stats() {
      return { faults: 0, readFaults: 0, writeFaults: 0, invalidations: 0, syscalls: 0, crossings: 0, messages: 0, switches: 0 };
    },
  };
  const counts = yield* runLitmus(env, dsm, rank, 2, 1, 1000, LITMUS, real.base);
  if (rank === 0) yield* env.sys.publish('forbidden', counts.reduce((a, c) => a + c.forbidden, 0));
  yield* real.detach();
  return 0;
});

describe('the SC checker with several threads per rank', () => {
  it('finds no violation on the kernel DSM with 3 threads on each of 4 ranks (readers racing the locked writers)', () => {
    const r = runDsmJob(APPS.dsm_litmus, 4, ['kernel', 'runs=0', 'ops=40', 'threads=3', 'locations=6', 'seed=11'], 11);
    expect(r.job.status, stderrOf(r)).toBe('completed');
    expect(r.results.checked_ops?.max).toBe(4 * 3 * 40);
    expect(r.results.violations?.max).toBe(0);
  });

  it('refuses threads above 1 on the user DSM with one line and exit 2', () => {
    const r = runDsmJob(APPS.dsm_litmus, 2, ['user', 'threads=2']);
    expect(r.job.exit_status_counts).toEqual({ '2': 2 });
    expect(r.ranks[0].stderr).toBe('dsm_litmus: threads above 1 need the kernel DSM (the user DSM serves one application thread per rank)\n');
  });
});

describe('the litmus harness', () => {
  it('sees forbidden outcomes on memory without coherence (so it can fail)', () => {
    const r = runDsmJob(incoherent, 4);
    expect(r.job.status, stderrOf(r)).toBe('completed');
    // SB shows 0,0 on every run: each store stays in its rank's private page.
    expect(r.results.forbidden?.max).toBeGreaterThan(0);
  });
});
