// Review 3 of #13: `margay run unet_pingpong --nodes 2 -- direct --host-limit 150` hands the options after `--`
// to the program, which exits 2 with a usage line on stderr; a program that printed more than the summary shows
// (or --lines 0) left that line out, and the run looked like it failed for no reason.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = resolve('bin/margay.js');

const WORDY = `import { program } from 'margay/userland';
export default program('wordy', function* main(env) {
  for (let i = 1; i <= 12; i++) yield* env.sys.print(\`line \${i}\\n\`);
  if (env.argv.length > 1) {
    yield* env.sys.print(\`wordy: no option '\${env.argv[1]}'\\n\`, 2);
    return 2;
  }
  return 0;
});
`;

function run(...args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'margay-user-'));
  writeFileSync(join(dir, 'wordy.ts'), WORDY);
  const r = spawnSync(process.execPath, [BIN, 'run', './wordy.ts', '--nodes', '1', ...args], { encoding: 'utf8', timeout: 120_000, cwd: dir });
  return { code: r.status, stdout: r.stdout };
}

describe('the run summary', () => {
  it("always shows a failed rank's first error line, however much it printed first", () => {
    for (const lines of [[], ['--lines', '0']]) {
      const r = run(...lines, '--', '--host-limit');
      expect(r.stdout).toContain("exit 2\n");
      expect(r.stdout).toContain("    | stderr: wordy: no option '--host-limit'\n");
    }
  });

  it('shows the line once when it is among the lines shown anyway, and adds nothing for a rank that succeeded', () => {
    const all = run('--lines', 'all', '--', '--host-limit');
    expect(all.stdout).toContain("    | wordy: no option '--host-limit'\n");
    expect(all.stdout).not.toContain('stderr:');
    expect(run().stdout).not.toContain('stderr:');
  });
});
