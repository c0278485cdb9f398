// A rank that returns 0 during AM set-up is no failure to yod (status 0), so nothing ends the job for it:
// the waiting rank's own deadline must name it, and that deadline must fall before margay run's default
// --time-limit (10 s), or the run ends INCOMPLETE with no word of why. Both transports wait 5 s.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = resolve('bin/margay.js');

const program = (transport: 'amOverUnet' | 'amOverPortals') => `import { type Env, ${transport}, amStart, program } from 'margay/userland';
export default program('early_return', function* main(env: Env) {
  if ((yield* env.sys.getrank()) === 1) return 0;
  const t = yield* ${transport}(env);
  yield* amStart(env, t, [function* h() {}]);
  yield* env.sys.print('set-up finished\\n');
  return 0;
});
`;

describe('a rank that returns 0 during AM set-up, under margay run\'s default limits', () => {
  for (const [transport, said] of [
    ['amOverPortals', /rank 0: rank 1 did not report to the barrier in 5000 ms/],
    ['amOverUnet', /rank 0: rank 1 did not (open its end|reach the end) of AM over U-Net in 5000 ms/],
  ] as const) {
    it(`is named by the waiting rank (${transport}) before the time limit`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'margay-user-'));
      writeFileSync(join(dir, 'early_return.ts'), program(transport));
      const r = spawnSync(process.execPath, [BIN, 'run', './early_return.ts', '--nodes', '2'], { encoding: 'utf8', timeout: 120_000, cwd: dir });
      expect(r.stdout).not.toContain('INCOMPLETE');
      expect(r.stdout).not.toContain('set-up finished');
      expect(r.stdout).toMatch(said);
      expect(r.status).not.toBe(0);
    });
  }
});
