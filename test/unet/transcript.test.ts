// The monitor transcripts in docs/KERNEL-BYPASS.md and docs/ACTIVE-MESSAGES.md
// are real: the commands of a transcript block ("(margay) ..." lines) are fed
// to `margay monitor`, as a user would type them, and its output must be the
// block, line for line. (Through the CLI, not a session inside vitest: a
// program's image is its compiled text, and vitest compiles differently, so
// load times, and every time after, would differ from what a user sees.)

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

function transcripts(doc: string): string[] {
  return [...doc.matchAll(/```text\n([\s\S]*?)```/g)].map((m) => m[1].trimEnd()).filter((b) => b.startsWith('(margay) '));
}

describe.each(['docs/KERNEL-BYPASS.md', 'docs/ACTIVE-MESSAGES.md'])('the monitor transcripts of %s', (path) => {
  const blocks = transcripts(readFileSync(path, 'utf8'));
  it.runIf(blocks.length > 0)('are what margay monitor prints for their commands', () => {
    for (const block of blocks) {
      const commands = block
        .split('\n')
        .filter((l) => l.startsWith('(margay) '))
        .map((l) => l.slice('(margay) '.length));
      const r = spawnSync(process.execPath, ['bin/margay.js', 'monitor', '--plain'], { input: `${commands.join('\n')}\n`, encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(0);
      expect(r.stdout.trimEnd()).toBe(block);
    }
  });
});

describe('the prose under the transcript of docs/KERNEL-BYPASS.md', () => {
  it('gives the first step\'s times as the transcript shows them', () => {
    const doc = readFileSync('docs/KERNEL-BYPASS.md', 'utf8');
    const block = transcripts(doc)[0];
    // The first stop, and the record under it: when the step ended and when it began.
    const stop = /stopped: breakpoint \d+ at ([\d.]+) us/.exec(block);
    const record = /^\s+([\d.]+) us  node \d+ core \d+  unet-nic\/(\S+)/m.exec(block);
    const prose = /the (\S+) took (\d+) ns, from\s+([\d.]+) to\s+([\d.]+) us/.exec(doc);
    expect(stop).not.toBeNull();
    expect(record).not.toBeNull();
    expect(prose).not.toBeNull();
    expect(record![2]).toContain(prose![1]);
    expect([prose![3], prose![4]]).toEqual([record![1], stop![1]]);
    expect(Number(prose![2])).toBe(Math.round((Number(stop![1]) - Number(record![1])) * 1000));
  });
});
