// margay run --on-failure end|continue: what a failed rank does to the job, on the command line, in the
// usage text and in the monitor's load command.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HELP } from '../../monitor/commands/run.ts';
import { COMMANDS } from '../../monitor/session.ts';

const BIN = resolve('bin/margay.js');

function margay(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A program whose rank 1 exits 3 while the others sleep for good. */
function oneFails(): string {
  const dir = mkdtempSync(join(tmpdir(), 'margay-onfail-'));
  const file = join(dir, 'onefails.ts');
  writeFileSync(
    file,
    `import { program } from '${resolve('userland/index.ts')}';
export default program('onefails', function* main(env) {
  if ((yield* env.sys.getrank()) === 1) return 3;
  for (;;) yield* env.sys.nanosleep(1e9);
});
`,
  );
  return file;
}

describe('margay run --on-failure', () => {
  it('refuses a bad value with one usage line and exit code 2', () => {
    const r = margay('run', 'hello', '--nodes', '2', '--on-failure', 'sometimes');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(["margay run: --on-failure must be end or continue, got 'sometimes'"]);
  });

  it('is in the usage text and the monitor\'s load and run commands', () => {
    expect(HELP).toMatch(/--on-failure W/);
    expect(COMMANDS.load.usage).toMatch(/--on-failure end\|continue/);
    expect(COMMANDS.run.usage).toMatch(/--on-failure end\|continue/);
  });

  it('ends a loaded job whose rank fails, by default, naming the rank and status', () => {
    const r = margay('run', oneFails(), '--nodes', '4', '--time-limit', '2s');
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/rank 1 failed with status 3; ending the job/);
  });

  it('ends a direct job whose rank fails, by default, and leaves it running to the time limit with continue', () => {
    const file = oneFails();
    const ended = margay('run', file, '--nodes', '4', '--load', 'direct', '--time-limit', '2s', '--json');
    const report = JSON.parse(ended.stdout);
    expect(report.job.status).toBe('failed');
    expect(report.ranks.map((k: { exit_status: number }) => k.exit_status)).toEqual([137, 3, 137, 137]);
    const ran = margay('run', file, '--nodes', '4', '--load', 'direct', '--time-limit', '20ms', '--on-failure', 'continue', '--json');
    const r2 = JSON.parse(ran.stdout);
    expect(r2.job.status).toBe('incomplete');
    expect(r2.ranks.map((k: { exit_status: number | null }) => k.exit_status)).toEqual([null, 3, null, null]);
  });
});
