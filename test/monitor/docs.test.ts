import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../kernel/system.ts';
import { resolveProgram } from '../../monitor/programs.ts';

describe('docs/WRITING-PROGRAMS.md', () => {
  it('has a complete example that runs as written', async () => {
    const doc = readFileSync('docs/WRITING-PROGRAMS.md', 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(doc)![1].replaceAll("'./userland/", `'${process.cwd()}/userland/`);
    const file = join(mkdtempSync(join(tmpdir(), 'margay-doc-')), 'myprog.ts');
    writeFileSync(file, code);
    const prog = await resolveProgram(file);
    const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [2] }, seed: 1 });
    const job = sys.launchDirect(prog, [0, 1], []);
    sys.run({ done: () => sys.jobDone(job) });
    const out = job.ranks.map((r) => r.process!.stdout.join(''));
    expect(out[1]).toMatch(/^rank 1\/2: 1\^2 = 1, took \d+ ns, helper says 1\n$/);
    expect(job.ranks.every((r) => r.process!.exitStatus === 0)).toBe(true);
  });
});
