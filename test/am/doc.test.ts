// docs/ACTIVE-MESSAGES.md: its complete example runs as written, from a
// folder outside the checkout, on both transports, and prints what the
// document says.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { launch } from '../../monitor/launch.ts';
import { resolveProgram } from '../../monitor/programs.ts';
import { typeErrors } from '../../monitor/typecheck.ts';

const DOC = readFileSync('docs/ACTIVE-MESSAGES.md', 'utf8');
const CODE = [...DOC.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).find((c) => c.includes("program('am_hello'"));

describe('docs/ACTIVE-MESSAGES.md', () => {
  it('runs the am_hello example as written on both transports and prints what the document says', async () => {
    expect(CODE).toBeDefined();
    const file = join(mkdtempSync(join(tmpdir(), 'margay-am-doc-')), 'am_hello.ts');
    writeFileSync(file, CODE!);
    expect(typeErrors(file)).toEqual([]);
    for (const argv of [[], ['portals']]) {
      const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [3] }, seed: 1 });
      const job = launch(sys, { load: 'two-phase', fanout: { kind: 'binomial' }, programs: [await resolveProgram(file)], map: [{ firstNid: 0, count: 2, image: 0 }], argv, timeoutUs: 1_000_000 });
      sys.run({ done: () => sys.jobDone(job), until: 10e12 });
      const ranks = sys.rankStates(job);
      const out = ranks.map((r) => r.process!.stdout.join(''));
      expect(out).toEqual(['rank 0: rank 1 says 42\n', '']);
      expect(DOC).toContain(out[0].trim());
      expect(ranks.map((r) => r.process!.exitStatus)).toEqual([0, 0]);
    }
  });
});
