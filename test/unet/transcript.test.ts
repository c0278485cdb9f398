// The monitor transcripts in docs/KERNEL-BYPASS.md and docs/ACTIVE-MESSAGES.md
// are real: every "(margay) command" in a transcript block is replayed in a
// fresh monitor session and must print exactly the lines the document shows
// under it.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MonitorSession } from '../../monitor/session.ts';

/** The ```text blocks that hold monitor commands, as [command, expected output lines][] per block. */
function transcripts(doc: string): [string, string[]][][] {
  return [...doc.matchAll(/```text\n([\s\S]*?)```/g)]
    .map((m) => m[1])
    .filter((b) => b.startsWith('(margay) '))
    .map((b) => {
      const steps: [string, string[]][] = [];
      for (const line of b.trimEnd().split('\n')) {
        if (line.startsWith('(margay) ')) steps.push([line.slice('(margay) '.length), []]);
        else steps[steps.length - 1][1].push(line);
      }
      return steps;
    });
}

describe.each(['docs/KERNEL-BYPASS.md', 'docs/ACTIVE-MESSAGES.md'])('the monitor transcripts of %s', (path) => {
  const blocks = transcripts(readFileSync(path, 'utf8'));
  it.runIf(blocks.length > 0)('print what the document shows when replayed', async () => {
    for (const steps of blocks) {
      const s = new MonitorSession();
      for (const [cmd, want] of steps) expect((await s.exec(cmd)).join('\n').trimEnd(), cmd).toBe(want.join('\n').trimEnd());
    }
  });
});
