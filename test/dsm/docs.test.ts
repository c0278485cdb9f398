// docs/DSM-KERNEL.md shows a program and figures: the program is the one a
// test runs, and the redstorm figures are what a fresh run measures.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const doc = readFileSync('docs/DSM-KERNEL.md', 'utf8');

describe('docs/DSM-KERNEL.md', () => {
  it('shows examples/dsm/kernel-counter.ts exactly as the file is', () => {
    expect(doc).toContain('```ts\n' + readFileSync('examples/dsm/kernel-counter.ts', 'utf8') + '```');
  });

  it('gives the redstorm fault costs a fresh run of examples/dsm/fault-anatomy.ts measures', () => {
    const r = spawnSync(process.execPath, ['bin/margay.js', 'run', './examples/dsm/fault-anatomy.ts', '--nodes', '4', '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout).results as Record<string, { max: number }>;
    const row = ['read_zero', 'read_remote', 'write_remote', 'write_upgrade_inv2'].map((k) => `${res[`${k}_ns`].max} ns`).join(' | ');
    expect(doc).toContain(`| redstorm | ${row} | 0 | 1 |`);
    for (const k of ['read_zero', 'read_remote', 'write_remote', 'write_upgrade_inv2']) {
      expect(res[`${k}_syscalls`].max).toBe(0);
      expect(res[`${k}_faults`].max).toBe(1);
    }
  }, 60_000);
});
