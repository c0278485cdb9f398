// Host-time supervision of `margay run` (issue 11 item 7): a program step
// that never yields is stopped by the watchdog naming its rank and program;
// a run that takes too long stops at --host-limit with a partial report;
// Ctrl-C gives a partial report; long runs print a progress line on stderr.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'margay-watch-'));
const spin = join(dir, 'spin.ts');
writeFileSync(
  spin,
  `import { program } from '${process.cwd()}/userland/lib/runtime.ts';
export default program('spin', function* main(env) {
  const rank = yield* env.sys.getrank();
  if (env.argv[1] === 'js' && rank === 1) { let x = 0; for (;;) x++; }
  if (env.argv[1] === 'yield') for (;;) yield* env.sys.schedYield();
  return 0;
});
`,
);

function margay(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/margay.js', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

describe('host-time supervision of margay run', () => {
  it('stops a loop with no yield* even under --time-limit 1ms, naming the rank and the program', () => {
    const r = margay('run', spin, '--nodes', '2', '--time-limit', '1ms', '--host-limit', '2s', '--', 'js');
    expect(r.signal ?? r.code).not.toBe(0);
    expect(r.stderr).toMatch(/watchdog: rank 1 \(program spin, node 1, pid 100\) has run \d+\.\d s of host time without yielding/);
  }, 60_000);

  it('stops a sched_yield loop at --host-limit with a partial JSON report on stdout', () => {
    const r = margay('run', spin, '--nodes', '2', '--host-limit', '2s', '--json', '--', 'yield');
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.stdout);
    expect(rep.job.status).toBe('incomplete');
    expect(rep.job.stop).toMatch(/host time limit reached after 2 s/);
    expect(rep.ranks.map((k: { exit_status: number | null }) => k.exit_status)).toEqual([null, null]);
    expect(rep.job.exit_status_counts).toEqual({ running: 2 });
  }, 60_000);

  it('prints a progress line on stderr during a long run and a partial report on Ctrl-C', async () => {
    const child = spawn(process.execPath, ['bin/margay.js', 'run', spin, '--nodes', '2', '--', 'yield'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/host time, simulated/.test(stderr)) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    expect(stderr).toMatch(/margay: \d+ s of host time, simulated [\d.]+ ms so far/);
    expect(code).toBe(1);
    expect(stdout).toMatch(/INCOMPLETE \(interrupted \(Ctrl-C\); partial report\)/);
    expect(stdout).toMatch(/rank 1 \(node 1, pid 100\): running/);
  }, 60_000);

  it('refuses a --host-limit it cannot read with a usage error', () => {
    const r = margay('run', 'hello', '--nodes', '2', '--host-limit', 'soon');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--host-limit must be a time/);
  });
});
