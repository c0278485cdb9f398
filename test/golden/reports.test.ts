// Golden reports: the simulated results of a set of `margay run` command
// lines, pinned byte for byte (less the report's `host` block, which is wall
// time and memory). Refactors and optimisations must leave them identical; a
// deliberate change to simulated behaviour regenerates them in its own commit
// (`npm run goldens`) and says why.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../monitor/commands/run.ts';
import { bufferOutput } from '../../monitor/output.ts';

export const GOLDEN_RUNS: Record<string, string[]> = {
  'hello-64-two-phase-binomial': ['hello', '--nodes', '64'],
  'hello-64-two-phase-flat': ['hello', '--nodes', '64', '--fanout', 'flat'],
  'hello-64-two-phase-flat-concurrent': ['hello', '--nodes', '64', '--fanout', 'flat-concurrent'],
  'hello-64-one-phase-binomial': ['hello', '--nodes', '64', '--load', 'one-phase'],
  'hello-64-one-phase-flat': ['hello', '--nodes', '64', '--load', 'one-phase', '--fanout', 'flat'],
  'hello-64-two-phase-tree4': ['hello', '--nodes', '64', '--fanout', 'tree:4'],
  'hello-1024-two-phase-binomial': ['hello', '--nodes', '1024'],
  'hello-1024-two-phase-flat': ['hello', '--nodes', '1024', '--fanout', 'flat'],
  'hello-8-direct': ['hello', '--nodes', '8', '--load', 'direct'],
  'allreduce-32': ['allreduce', '--nodes', '32'],
  'pingpong-2': ['pingpong', '--nodes', '2'],
  'ring-8': ['ring', '--nodes', '8'],
  'tlbstale-shootdown': ['tlbstale', '--nodes', '1', '--cores', '2'],
  'tlbstale-no-shootdown': ['tlbstale', '--nodes', '1', '--cores', '2', '--no-shootdown'],
  'bcast-15-ext': ['bcast', '--nodes', '15', '--cores', '1', '--', 'ext'],
  'bcast-15-irq': ['bcast', '--nodes', '15', '--cores', '1', '--', 'irq'],
};

const DIR = join(import.meta.dirname, 'reports');
const UPDATE = process.env.UPDATE_GOLDENS === '1';

/** The report of one command line, as pinned text (host block removed). */
export async function goldenText(argv: string[]): Promise<string> {
  const out = bufferOutput();
  await run([...argv.slice(0, argv.indexOf('--') < 0 ? argv.length : argv.indexOf('--')), '--json', ...(argv.includes('--') ? argv.slice(argv.indexOf('--')) : [])], out);
  const { host: _host, ...rest } = out.docs[0] as Record<string, unknown>;
  return JSON.stringify(rest, null, 2) + '\n';
}

describe('golden reports: simulated results stay byte-identical', () => {
  if (UPDATE) mkdirSync(DIR, { recursive: true });
  for (const [name, argv] of Object.entries(GOLDEN_RUNS)) {
    it(`margay run ${argv.join(' ')} gives the pinned report`, async () => {
      const text = await goldenText(argv);
      const file = join(DIR, `${name}.json`);
      if (UPDATE) writeFileSync(file, text);
      expect(existsSync(file), `${file} is missing: run npm run goldens`).toBe(true);
      expect(text).toBe(readFileSync(file, 'utf8'));
    });
  }
});

describe('golden reports are what a user sees', () => {
  it('match what the margay command prints for the same command line (compiled by tsx, not vite)', () => {
    const argv = GOLDEN_RUNS['hello-64-two-phase-binomial'];
    const r = spawnSync(process.execPath, ['bin/margay.js', 'run', ...argv, '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const { host: _host, ...rest } = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(JSON.stringify(rest, null, 2) + '\n').toBe(readFileSync(join(DIR, 'hello-64-two-phase-binomial.json'), 'utf8'));
  });
});
