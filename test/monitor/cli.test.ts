import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function margay(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/margay.js', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the margay command line', () => {
  it('prints help for the whole tool and for every command', () => {
    const top = margay('--help');
    expect(top.code).toBe(0);
    const commands = [...top.stdout.matchAll(/^ {2}(\w+) {2,}/gm)].map((m) => m[1]);
    expect(commands).toEqual(expect.arrayContaining(['start', 'machine', 'docs']));
    for (const c of commands) {
      const h = margay(c, '--help');
      expect(h.code, c).toBe(0);
      expect(h.stdout, c).toMatch(/^usage: margay /);
    }
  });

  it('rejects an unknown flag with one line and exit code 2', () => {
    const r = margay('machine', '--frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(["margay machine: unknown option '--frobnicate'"]);
    expect(r.stdout).toBe('');
  });

  it('rejects a bad profile value with one line naming it', () => {
    const r = margay('machine', '--set', 'net.linkBandwidth=0');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/net.linkBandwidth must be between/);
  });

  it('rejects an unknown command and a bad shape', () => {
    expect(margay('frob').code).toBe(2);
    const r = margay('machine', '--shape', 'ring:3');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read shape 'ring:3'/);
  });

  it('prints only JSON on stdout with --json', () => {
    const r = margay('machine', '--json', '--shape', 'torus:27x16x24');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.nodes).toBe(10368);
    expect(doc.diameter).toBe(13 + 8 + 12);
    expect(doc.parameters['net.linkBandwidth'].value).toBe(2e9);
  });

  it('describes Red Storm by default', () => {
    const doc = JSON.parse(margay('machine', '--json').stdout);
    expect(doc).toMatchObject({ profile: 'redstorm', shape: 'mesh:27x16x24', nodes: 10368, diameter: 64 });
  });
});
