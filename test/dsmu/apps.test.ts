// The DSM apps on the user-level DSM compute what the same program computes
// sequentially, and refuse bad command lines with one line and exit 2.

import { describe, expect, it } from 'vitest';
import { APPS } from '../../userland/apps/index.ts';
import { jacobiReference } from '../../userland/apps/dsm_jacobi.ts';
import { matmulReference } from '../../userland/apps/dsm_matmul.ts';
import { runDsmJob, stderrOf } from './run.ts';

describe('the DSM apps', () => {
  for (const impl of ['user', 'kernel']) {
    it(`dsm_jacobi gives the sequential checksum on 1 and on 3 ranks (${impl})`, () => {
      const want = jacobiReference(16, 4);
      for (const ranks of [1, 3]) {
        const r = runDsmJob(APPS.dsm_jacobi, ranks, [impl, 'n=16', 'iterations=4', 'cycles=10']);
        expect(r.job.status, stderrOf(r)).toBe('completed');
        expect(r.results.checksum?.max).toBe(want);
      }
    });
  }

  it('dsm_matmul gives the sequential checksum on 3 ranks (kernel)', () => {
    const r = runDsmJob(APPS.dsm_matmul, 3, ['kernel', 'n=12', 'block=4']);
    expect(r.job.status, stderrOf(r)).toBe('completed');
    expect(r.results.checksum?.max).toBe(matmulReference(12));
  });

  it('dsm_counter loses no increment under the kernel lock', () => {
    const r = runDsmJob(APPS.dsm_counter, 3, ['kernel', 'increments=6', 'work=100']);
    expect(r.job.status, stderrOf(r)).toBe('completed');
    expect(r.results.counter?.max).toBe(18);
  });

  it('dsm_matmul gives the sequential checksum on 3 ranks (polling service)', () => {
    const r = runDsmJob(APPS.dsm_matmul, 3, ['user', 'poll', 'n=12', 'block=4']);
    expect(r.job.status, stderrOf(r)).toBe('completed');
    expect(r.results.checksum?.max).toBe(matmulReference(12));
  });

  it('dsm_counter loses no increment under the lock', () => {
    const r = runDsmJob(APPS.dsm_counter, 3, ['user', 'increments=6', 'work=100']);
    expect(r.job.status, stderrOf(r)).toBe('completed');
    expect(r.results.counter?.max).toBe(18);
    expect(r.results.faults?.min).toBeGreaterThan(0);
  });

  it('dsm_falseshare is slower when the words share a page', () => {
    const r = runDsmJob(APPS.dsm_falseshare, 2, ['user', 'writes=6', 'work=50000']);
    expect(r.job.status, stderrOf(r)).toBe('completed');
    expect(r.results.shared_ns_per_write?.max).toBeGreaterThan(r.results.padded_ns_per_write?.max ?? Infinity);
  });

  it('refuses an unknown implementation, argument or value with one line and exit 2', () => {
    for (const argv of [['shm'], ['user', 'n=x'], ['user', 'n=2'], ['kernel', 'poll'], ['user', 'bogus=1']]) {
      const r = runDsmJob(APPS.dsm_jacobi, 1, argv);
      expect(r.job.exit_status_counts, argv.join(' ')).toEqual({ '2': 1 });
      expect(stderrOf(r)).toMatch(/^dsm_jacobi: .*\n/);
      expect(stderrOf(r)).not.toMatch(/Error|at .*\.ts/);
    }
  });

  it('dsm_litmus on one rank says it needs two', () => {
    const r = runDsmJob(APPS.dsm_litmus, 1, ['user']);
    expect(r.job.exit_status_counts).toEqual({ '2': 1 });
    expect(stderrOf(r)).toBe('dsm_litmus needs at least 2 ranks (--nodes 2)\n');
  });
});
