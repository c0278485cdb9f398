// docs/KERNEL-BYPASS.md: its complete example runs as written, from a folder
// outside the checkout, and prints what the document says.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { launch } from '../../monitor/launch.ts';
import { resolveProgram } from '../../monitor/programs.ts';
import { typeErrors } from '../../monitor/typecheck.ts';

const DOC = readFileSync('docs/KERNEL-BYPASS.md', 'utf8');
const CODE = [...DOC.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).find((c) => c.includes("program('unet_hello'"));

describe('docs/KERNEL-BYPASS.md', () => {
  it('runs the unet_hello example as written and prints what the document says', async () => {
    expect(CODE).toBeDefined();
    const file = join(mkdtempSync(join(tmpdir(), 'margay-unet-doc-')), 'unet_hello.ts');
    writeFileSync(file, CODE!);
    expect(typeErrors(file)).toEqual([]);
    const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [3] }, seed: 1 });
    const job = launch(sys, { load: 'two-phase', fanout: { kind: 'binomial' }, programs: [await resolveProgram(file)], map: [{ firstNid: 0, count: 2, image: 0 }], argv: [], timeoutUs: 1_000_000 });
    sys.run({ done: () => sys.jobDone(job), until: 10e12 });
    const ranks = sys.rankStates(job);
    const out = ranks.map((r) => r.process!.stdout.join(''));
    expect(out).toEqual(['rank 0: the reply has 0 bytes\n', "rank 1: got 'hello over U-Net' on channel 0\n"]);
    for (const line of out) expect(DOC).toContain(line.trim());
    expect(ranks.map((r) => r.process!.exitStatus)).toEqual([0, 0]);
  });
});
