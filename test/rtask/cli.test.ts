// margay run --load crtc and margay sweep crtc from the command line: bad
// flags get one line and exit 2; a run names its choices.

import { spawnSync } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../monitor/cli.ts';

function margay(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/margay.js', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the remote-tasking command line', () => {
  it('refuses bad remote-tasking flags with one line and exit status 2', async () => {
    const cases: [string[], RegExp][] = [
      [['run', 'hello', '--load', 'crtc', '--algorithm', 'fast'], /--algorithm must be ntc or crtc, got 'fast'/],
      [['run', 'hello', '--load', 'crtc', '--creation', 'star'], /--creation must be flat, flat-mt or tree/],
      [['run', 'hello', '--load', 'crtc', '--creation', 'flat', '--paging', 'tree'], /--paging tree follows the creation tree/],
      [['run', 'hello', '--load', 'crtc', '--nms', 'maybe'], /--nms must be on or off/],
      [['run', 'hello', '--load', 'crtc', '--vm-areas', '2'], /--vm-areas/],
      [['run', 'hello', '--load', 'crtc', '--creators', '4'], /--creators sets the creating threads of --creation flat-mt/],
      [['run', 'hello', '--load', 'crtc', '--transport', 'tcp'], /--transport must be norma or dipc, got 'tcp'/],
      [['run', 'hello', '--algorithm', 'ntc'], /--algorithm is a remote-tasking option: use it with --load crtc/],
      [['run', 'hello', '--load', 'crtc', '--fanout', 'flat'], /--fanout is the loader's tree/],
      [['sweep', 'crtc', '--figure', '99'], /--figure must be one of 6a, 6b, 7, 8, 9, 10, 11, 12, 13, got '99'/],
      [['sweep', 'crtc', '--figure', '10', '--counts', '9'], /--counts: 9 is out of range for figure 10/],
      [['sweep', 'crtc', '--figure', '7', '--counts', '4-2'], /--counts: '4-2' is not a count or a range/],
    ];
    // The CLI's own entry point in this process (a node process per case cost ~50 s of this file);
    // the run below spawns bin/margay.js itself.
    for (const [args, msg] of cases) {
      const written: string[] = [];
      const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
      const code = await main(args).finally(() => write.mockRestore());
      const stderr = written.join('');
      expect(code, args.join(' ')).toBe(2);
      expect(stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(stderr).toMatch(msg);
    }
  }, 300_000);

  it('launches hello with --load crtc over NORMA and names the choices in the summary', () => {
    const r = margay('run', 'hello', '--nodes', '6', '--load', 'crtc', '--transport', 'norma', '--algorithm', 'ntc', '--creation', 'flat-mt', '--creators', '2', '--vm-areas', '5', '--nms', 'on');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/load crtc over flat-mt x2 \(ntc algorithm, flat paging, nms on, 5 VM areas, norma\): COMPLETED/);
    expect(r.stdout).toMatch(/6 rank\(s\) loaded and exited with status 0/);
  }, 120_000);

  it('takes --counts as ranges in sweep crtc, as margay sweep does (1-3 is 1, 2, 3)', async () => {
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0);
    const code = await main(['sweep', 'crtc', '--figure', '7', '--counts', '1-3']).finally(() => write.mockRestore());
    expect(code).toBe(0);
    const fig = JSON.parse(lines.join('')) as { series: { points: { x: number; status: string }[] }[] };
    for (const s of fig.series) expect(s.points.map((p) => [p.x, p.status])).toEqual([[1, 'ok'], [2, 'ok'], [3, 'ok']]);
  }, 120_000);
});
