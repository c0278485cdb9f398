import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { launch } from '../../monitor/launch.ts';
import { resolveProgram } from '../../monitor/programs.ts';
import { typeErrors } from '../../monitor/typecheck.ts';

// Every complete program in the guide (a ```ts block with a default export),
// saved as written in a folder outside the checkout, as a reader would.
const GUIDE = readFileSync('docs/WRITING-PROGRAMS.md', 'utf8');
const EXAMPLES = new Map(
  [...GUIDE.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1])
    .filter((code) => code.includes('export default program('))
    .map((code) => [/program\('([\w-]+)'/.exec(code)![1], code] as const),
);

/** How the guide says to run each one, and what it says the run prints. */
const RUNS: Record<string, { ranks: number; rank1?: RegExp; every: RegExp }> = {
  myprog: { ranks: 3, rank1: /^rank 1\/3: got 0 from rank 0, read back 1 \(event 8\), worked \d+ ns, helper says 1\n$/, every: /^rank \d\/3: got \d+ from rank \d, read back \d+ \(event 8\)/ },
  halo: { ranks: 8, every: /^rank \d\/8: 4 steps, cells \d+\.\.\d+, matches the serial result\n$/ },
  threads: { ranks: 1, every: /^threads: 3 workers summed 1\.\.1000 to 500500; 3 faults opened 3 pages\n$/ },
};

function runJob(prog: Awaited<ReturnType<typeof resolveProgram>>, ranks: number) {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [ranks + 1] }, seed: 1 });
  const job = launch(sys, { load: 'two-phase', fanout: { kind: 'binomial' }, programs: [prog], map: [{ firstNid: 0, count: ranks, image: 0 }], argv: [], timeoutUs: 1_000_000 });
  sys.run({ done: () => sys.jobDone(job), until: 10e12 });
  return { ranks: sys.rankStates(job), yod: job.yod };
}

describe('docs/WRITING-PROGRAMS.md', () => {
  it('has the three complete examples the tests know how to run', () => {
    expect([...EXAMPLES.keys()].sort()).toEqual(Object.keys(RUNS).sort());
  });

  for (const [name, code] of EXAMPLES) {
    it(`runs the ${name} example as written, from a folder outside the checkout`, async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'margay-doc-')), `${name}.ts`);
      writeFileSync(file, code);
      expect(typeErrors(file)).toEqual([]);
      const run = RUNS[name];
      const { ranks, yod } = runJob(await resolveProgram(file), run.ranks);
      const out = ranks.map((r) => r.process!.stdout.join(''));
      for (const o of out) expect(o).toMatch(run.every);
      if (run.rank1) expect(out[1]).toMatch(run.rank1);
      expect(ranks.map((r) => r.process!.exitStatus)).toEqual(ranks.map(() => 0));
      expect(yod?.exitStatus).toBe(0);
    });
  }
});

describe('docs/MONITOR.md', () => {
  // Through the CLI, as `npm run docs` replays it: a program's text is the source of its
  // main as the TypeScript loader emits it, so a run under vitest's loader differs in image size.
  it('shows a sample session that is what the monitor prints today (npm run docs replays it)', () => {
    const r = spawnSync(process.execPath, ['bin/margay.js', 'docs', '--check'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    const prose = readFileSync('docs/MONITOR.prose.md', 'utf8');
    expect(prose).toMatch(/## A session\n\n```text\n\(margay\) boot --nodes 4\n[\s\S]*stopped: job finished at [\d.]+ us \(event \d+\)\n/);
    expect(readFileSync('docs/MONITOR.md', 'utf8')).toContain(/## A session\n\n```text\n[\s\S]*?```/.exec(prose)![0]);
  });
});

describe('docs/ABI.md', () => {
  it('lists the system calls in order of number', () => {
    const nrs = [...readFileSync('docs/ABI.md', 'utf8').matchAll(/^\| (\d+) \| `\w+` \|/gm)].map((m) => Number(m[1]));
    expect(nrs.length).toBeGreaterThan(30);
    expect(nrs).toEqual([...nrs].sort((a, b) => a - b));
  });
});

describe('docs/MONITOR.md', () => {
  it('is generated from the command table and is current (npm run docs)', async () => {
    const { MONITOR_DOC, MONITOR_PROSE, monitorDoc } = await import('../../monitor/docsgen.ts');
    expect(readFileSync(MONITOR_DOC, 'utf8')).toBe(monitorDoc(readFileSync(MONITOR_PROSE, 'utf8')));
  });

  it('gives every command a short example that names the command', async () => {
    const { ALIASES, COMMANDS } = await import('../../monitor/session.ts');
    for (const [name, c] of Object.entries(COMMANDS)) {
      const first = c.example.split(/[\s/]/)[0];
      expect(first === name || ALIASES[first] === name, `${name}: ${c.example}`).toBe(true);
    }
  });
});
