// dsm_matmul's checksum must notice a block of C's rows that a rank never
// wrote (found by the third review of issue 15: the plain sum of C missed any
// row block whose true sum is zero -- for n = 10, every block on 2 to 8 ranks).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checksumRow, matA, matB, matmulReference } from '../../userland/apps/dsm_matmul.ts';
import { APPS } from '../../userland/apps/index.ts';
import { runDsmJob, stderrOf } from './run.ts';

function product(n: number): Float64Array[] {
  return Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(n);
    for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) row[j] += matA(i, k) * matB(k, j);
    return row;
  });
}

const checksum = (c: Float64Array[]) => c.reduce((h, row) => checksumRow(h, row), 0);

describe("dsm_matmul's checksum", () => {
  it('changes when any rank\'s block of rows of C is left unwritten (zero), for every size and rank count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 1, max: 8 }), fc.nat(), (n, size, pick) => {
        const rank = pick % size;
        const lo = Math.floor((n * rank) / size);
        const hi = Math.floor((n * (rank + 1)) / size);
        const c = product(n);
        if (c.slice(lo, hi).every((row) => row.every((v) => v === 0))) return; // nothing there to miss
        const missing = c.map((row, i) => (i >= lo && i < hi ? new Float64Array(n) : row));
        expect(checksum(missing)).not.toBe(checksum(c));
      }),
      { seed: 15, numRuns: 300 },
    );
  });

  it('is the sequential reference on 2 ranks for n = 10, where the plain sum of every row block is zero', () => {
    const r = runDsmJob(APPS.dsm_matmul, 2, ['kernel', 'n=10']);
    expect(r.job.exit_status_counts, stderrOf(r)).toEqual({ '0': 2 });
    expect(r.results.checksum?.max).toBe(matmulReference(10));
    expect(matmulReference(10)).not.toBe(0);
  });
});
