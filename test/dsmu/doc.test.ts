// docs/DSM.md as a newcomer uses it: the example in it is the file the test
// runs (with both DSMs, under `margay run`), and its tables are the stored
// sweep's, which a fresh run reproduces.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type DsmSweepResult, dsmTables, faultService } from '../../monitor/dsmmeasure.ts';

const doc = readFileSync('docs/DSM.md', 'utf8');
const sweep = JSON.parse(readFileSync('docs/dsm/sweep.json', 'utf8')) as DsmSweepResult;

describe('docs/DSM.md', () => {
  it('shows examples/dsm/shared-sum.ts as it is', () => {
    expect(doc).toContain('```ts\n' + readFileSync('examples/dsm/shared-sum.ts', 'utf8') + '```');
  });

  for (const impl of ['kernel', 'user']) {
    it(`runs the example under margay run with the ${impl} DSM: the sum is right`, () => {
      const r = spawnSync(process.execPath, ['bin/margay.js', 'run', './examples/dsm/shared-sum.ts', '--nodes', '3', '--json', '--', impl], { encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr).toBe(0);
      const rep = JSON.parse(r.stdout);
      expect(rep.job.status).toBe('completed');
      expect(rep.results.sum.max).toBe(6);
    }, 60_000);
  }

  it('shows the tables of the stored sweep (docs/dsm/sweep.json)', () => {
    expect(doc).toContain(dsmTables(sweep));
  });

  it('has fault figures a fresh run of the kernel DSM reproduces', () => {
    expect(faultService(sweep.profile, 'kernel')).toEqual(sweep.fault_service.kernel);
  }, 60_000);
});
