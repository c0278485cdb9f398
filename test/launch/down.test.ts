// --down N: the node's kernel is down but its SeaStar router still forwards
// (Red Storm's router is its own chip). A message for the node comes back
// undeliverable at once; messages that only cross it get through. So a load
// that includes the node ends at once, naming it (issue 11 item 3).

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function margay(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/margay.js', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a down node', () => {
  it('ends a load at once naming node 5, even when other ranks route through it (run hello --nodes 16 --down 5)', () => {
    const r = margay('run', 'hello', '--nodes', '16', '--down', '5', '--json');
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.stdout);
    expect(rep.job.status).toBe('failed');
    expect(rep.yod.stderr).toMatch(/rank 5: node 5 unreachable: node 5 is down/);
    expect(rep.yod.stderr).not.toMatch(/timeout/);
    // Well under the 1 s load timeout: nobody waited for an answer that could not come.
    expect(rep.phases_ns.load).toBeLessThan(100e6);
  });
});
