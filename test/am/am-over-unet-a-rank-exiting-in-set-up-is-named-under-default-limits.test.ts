// Review 13, finding 5: AM over U-Net's set-up waited 10 s of simulated time for another rank, as long as
// margay run's default --time-limit, so a rank that exited during set-up ended the run "INCOMPLETE (simulated
// time limit reached)" with rank 0 still running and no word of why. The set-up (opens and barrier together)
// now waits 5 s, and under the default limits the run names the rank in an AmError.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = resolve('bin/margay.js');

// The reviewer's program: rank 1 makes its endpoint (so rank 0's opens may be accepted) and exits at once.
// It returns 0: a nonzero status would have yod end the job (--on-failure end) before the set-up's deadline.
const EXIT_SETUP = `import { type Env, amOverUnet, amStart, program, unetCreate } from 'margay/userland';
export default program('exit_setup', function* main(env: Env) {
  const rank = yield* env.sys.getrank();
  if (rank === 1) { yield* unetCreate(env, { entries: 64, bufBytes: 4160 }); return 0; }
  const t = yield* amOverUnet(env);
  yield* amStart(env, t, [function* h() {}]);
  yield* env.sys.print('set-up finished\\n');
  return 0;
});
`;

describe('AM over U-Net under margay run\'s default limits', () => {
  it('names a rank that exits during set-up instead of ending INCOMPLETE at the time limit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'margay-user-'));
    writeFileSync(join(dir, 'exit_setup.ts'), EXIT_SETUP);
    const r = spawnSync(process.execPath, [BIN, 'run', './exit_setup.ts', '--nodes', '2'], { encoding: 'utf8', timeout: 120_000, cwd: dir });
    expect(r.stdout).not.toContain('INCOMPLETE');
    expect(r.stdout).not.toContain('set-up finished');
    expect(r.stdout).toMatch(/rank 0: rank 1 did not (open its end|reach the end) of AM over U-Net/);
  });
});
