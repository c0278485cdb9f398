import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { conformanceRoot, suiteDir } from './suites.ts';

function vitest(env: Record<string, string | undefined>) {
  const e = { ...process.env, ...env };
  for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
  return spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/conformance/ebpf.test.ts'], { encoding: 'utf8', timeout: 120_000, env: e as NodeJS.ProcessEnv });
}

describe('looking up the conformance suites', () => {
  it('takes MARGAY_CONFORMANCE first, then ../shared/conformance', () => {
    expect(conformanceRoot({ MARGAY_CONFORMANCE: '/x/suites' })).toBe('/x/suites');
    expect(conformanceRoot({})).toMatch(/\/shared\/conformance$/);
    expect(suiteDir('ebpf', { MARGAY_CONFORMANCE: '/nonexistent/suites' })).toBeNull();
  });

  it('skips a missing suite with a line that says where to put it, and passes', () => {
    const r = vitest({ MARGAY_CONFORMANCE: '/nonexistent/suites', CI: undefined });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/SKIPPED: the ebpf conformance suite is not at \/nonexistent\/suites\/ebpf: set MARGAY_CONFORMANCE/);
  });

  it('fails a missing suite when CI is set', () => {
    const r = vitest({ MARGAY_CONFORMANCE: '/nonexistent/suites', CI: 'true' });
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/CI is set, so a missing suite is a failure/);
  });
});
