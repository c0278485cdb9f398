import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../kernel/system.ts';
import { launch } from '../../monitor/launch.ts';
import { resolveProgram } from '../../monitor/programs.ts';

describe('docs/WRITING-PROGRAMS.md', () => {
  it('has a complete example that runs as written', async () => {
    const doc = readFileSync('docs/WRITING-PROGRAMS.md', 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(doc)![1].replaceAll("'./userland/", `'${process.cwd()}/userland/`);
    const file = join(mkdtempSync(join(tmpdir(), 'margay-doc-')), 'myprog.ts');
    writeFileSync(file, code);
    const prog = await resolveProgram(file);
    const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [4] }, seed: 1 });
    const job = launch(sys, { load: 'two-phase', fanout: { kind: 'binomial' }, programs: [prog], map: [{ firstNid: 0, count: 3, image: 0 }], argv: [], timeoutUs: 1_000_000 });
    sys.run({ done: () => sys.jobDone(job), until: 10e12 });
    const ranks = sys.rankStates(job);
    const out = ranks.map((r) => r.process!.stdout.join(''));
    expect(out[1]).toMatch(/^rank 1\/3: got 0 from rank 0, read back 1 \(event 8\), worked \d+ ns, helper says 1\n$/);
    expect(ranks.every((r) => r.process!.exitStatus === 0)).toBe(true);
    expect(job.yod?.exitStatus).toBe(0);
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
