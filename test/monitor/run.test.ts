import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function margay(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/margay.js', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('margay run', () => {
  it('launches hello on 16 nodes through yod and reports every rank and phase as JSON', () => {
    const r = margay('run', 'hello', '--nodes', '16', '--json');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.job).toMatchObject({ app: 'hello', load: 'two-phase', fanout: 'binomial', ranks: 16, service_node: 17, status: 'completed', exit_status_counts: { '0': 16 } });
    expect(rep.ranks).toHaveLength(16);
    expect(rep.ranks[5].stdout).toMatch(/^hello from rank 5 of 16 on node 5 core 0, pid 100\n$/);
    for (const phase of ['load', 'start', 'run', 'exit']) expect(rep.phases_ns[phase], phase).toBeGreaterThan(0);
    expect(rep.yod.stdout).toMatch(/16 rank\(s\) loaded and exited with status 0/);
    expect(rep.sim_end_ns).toBeGreaterThan(0);
    expect(rep.host.events_per_s).toBeGreaterThan(0);
  });

  it('shows a stale TLB read only with --no-shootdown', () => {
    const on = JSON.parse(margay('run', 'tlbstale', '--nodes', '1', '--cores', '2', '--json').stdout);
    const off = JSON.parse(margay('run', 'tlbstale', '--nodes', '1', '--cores', '2', '--no-shootdown', '--json').stdout);
    expect(on.results.stale_reads.max).toBe(0);
    expect(on.kernel.shootdowns).toBe(1);
    expect(off.results.stale_reads.min).toBe(50);
    expect(off.machine.shootdown).toBe(false);
  });

  it('gives the same report for the same seed, apart from host figures', () => {
    const strip = (s: string) => {
      const { host: _h, ...rest } = JSON.parse(s);
      return rest;
    };
    const a = margay('run', 'tlbstale', '--nodes', '2', '--seed', '9', '--json');
    const b = margay('run', 'tlbstale', '--nodes', '2', '--seed', '9', '--json');
    expect(strip(a.stdout)).toEqual(strip(b.stdout));
  });

  it('runs a program from a file and passes it arguments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'margay-'));
    const file = join(dir, 'echo.ts');
    writeFileSync(
      file,
      `import { program } from '${process.cwd()}/userland/lib/runtime.ts';
export default program('echo', function* main(env) {
  yield* env.sys.print(env.argv.slice(1).join(' ') + '\\n');
  return 3;
});
`,
    );
    const r = margay('run', file, '--nodes', '2', '--json', '--', 'a', 'b c');
    const rep = JSON.parse(r.stdout);
    expect(rep.ranks[1]).toMatchObject({ stdout: 'a b c\n', exit_status: 3 });
    expect(rep.job.status).toBe('failed');
    expect(r.code).toBe(1);
  });

  it('writes the trace to a file as JSON lines', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'margay-')), 'trace.jsonl');
    expect(margay('run', 'hello', '--nodes', '2', '--trace', file).code).toBe(0);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.some((r) => r.path === 'syscall' && r.step === 'dispatch' && r.detail === 'write')).toBe(true);
    expect(lines[0]).toEqual(expect.objectContaining({ t: 0, node: 0, core: 0 }));
  });

  it('rejects an unknown app, a bad flag and too many nodes in one line each', () => {
    for (const args of [['run', 'nosuchapp'], ['run', 'hello', '--nodes', 'ten'], ['run', 'hello', '--time-limit', 'soon'], ['run', 'hello', '--shape', '2x2', '--nodes', '5']]) {
      const r = margay(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });
});
