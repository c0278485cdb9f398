import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../monitor/args.ts';
import * as image from '../../monitor/commands/image.ts';
import * as machine from '../../monitor/commands/machine.ts';
import * as runCommand from '../../monitor/commands/run.ts';
import * as conformance from '../../monitor/commands/conformance.ts';
import * as sweep from '../../monitor/commands/sweep.ts';
import { bufferOutput } from '../../monitor/output.ts';
import { MonitorSession } from '../../monitor/session.ts';

const dir = mkdtempSync(join(tmpdir(), 'margay-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A command's usage error message, or 'ok' when it ran. */
async function usage(run: () => unknown): Promise<string> {
  try {
    await run();
    return 'ok';
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
}

describe('the CLI and the monitor refuse hostile input with a clear message', () => {
  it('refuses a seed too large to be exact, in the monitor and on the command line', async () => {
    const s = new MonitorSession();
    expect(await s.exec('boot --nodes 4 --seed 99999999999999999999')).toEqual(["error: --seed must be a whole number from 0 to 9007199254740991, got '99999999999999999999'"]);
    expect(await usage(() => machine.run(['--seed', '9007199254740993'], bufferOutput()))).toMatch(/--seed must be a whole number from 0 to 9007199254740991/);
    expect(await s.exec('boot --nodes 4 --seed 9007199254740991')).toEqual([expect.stringMatching(/^booted /)]);
  });

  it('refuses monitor numbers that are not exact integers', async () => {
    const s = new MonitorSession();
    await s.exec('boot --nodes 2');
    expect(await s.exec('step 99999999999999999999')).toEqual([expect.stringMatching(/^error: step N must be a whole number from 1 to/)]);
    expect(await s.exec('load hello --ranks 1e3')).toEqual([expect.stringMatching(/^error: --ranks must be a (whole )?number/)]);
  });

  it('refuses a sweep range too large to walk, and an image padding that is not a whole number', async () => {
    expect(await usage(() => sweep.run(['--counts', '1-99999999999999999999'], bufferOutput()))).toBe("--counts: '1-99999999999999999999' must name node counts from 1 to 100000, low to high");
    expect(await usage(() => sweep.run(['--image-bytes', '1e3'], bufferOutput()))).toMatch(/--image-bytes must be a whole number from 0 to 67108864/);
  });

  it('says the service node is out of memory when loads pile up, instead of an internal error', async () => {
    const s = new MonitorSession();
    await s.exec('boot --nodes 2');
    let last: string[] = [];
    for (let i = 0; i < 200 && !(last[0] ?? '').startsWith('error'); i++) last = await s.exec('load hello');
    expect(last).toEqual([expect.stringMatching(/^error: cannot start yod on the service node \(node 2\): .*no \d+-byte contiguous physical extent/)]);
  });

  it('refuses a device, a FIFO and a directory as an image, a program or a config, without reading them', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const path of ['/dev/zero', fifo]) {
      expect(await usage(() => image.run(['--check', path], bufferOutput()))).toBe(`cannot read ${path}: not a regular file`);
      expect(await usage(() => machine.run(['--config', path], bufferOutput()))).toBe(`cannot read --config ${path}: not a regular file`);
    }
    expect(await usage(() => image.run(['--check', dir], bufferOutput()))).toBe(`cannot read ${dir}: a directory`);
    const s = new MonitorSession();
    await s.exec('boot --nodes 2');
    expect(await s.exec('load /dev/zero')).toEqual(['error: cannot read /dev/zero: not a regular file']);
    expect(await s.exec(`load ${fifo}`)).toEqual([`error: cannot read ${fifo}: not a regular file`]);
    // Found by the monitor fuzzer once the debugger's replay command arrived: it read /dev/zero until the host ran out of memory.
    expect(await s.exec('replay /dev/zero')).toEqual(['error: cannot read /dev/zero: not a regular file']);
  });

  it('refuses a file larger than the limit before reading it all', async () => {
    const big = join(dir, 'big.elf');
    writeFileSync(big, '');
    truncateSync(big, 64 * 1024 * 1024 + 1);
    expect(await usage(() => image.run(['--check', big], bufferOutput()))).toBe(`cannot read ${big}: more than 67108864 bytes`);
    const s = new MonitorSession();
    await s.exec('boot --nodes 2');
    const prog = join(dir, 'huge.ts');
    writeFileSync(prog, '');
    truncateSync(prog, 16 * 1024 * 1024);
    expect(await s.exec(`load ${prog}`)).toEqual([`error: cannot read ${prog}: more than 4194304 bytes`]);
  });

  it('says in one line why an image or a trace cannot be written (found by the monitor fuzzer)', async () => {
    expect(await usage(() => image.run(['hello', '-o', dir], bufferOutput()))).toBe(`-o: ${dir} is a directory: name a file in it`);
    expect(await usage(() => image.run(['hello', '-o', join(dir, 'missing', 'x.elf')], bufferOutput()))).toBe(`-o: cannot write ${join(dir, 'missing', 'x.elf')}: no such folder ${join(dir, 'missing')}`);
    expect(await usage(() => runCommand.run(['hello', '--nodes', '1', '--trace', dir], bufferOutput()))).toBe(`--trace: ${dir} is a directory: name a file in it`);
  });

  it('refuses fault switches that would change nothing: without a loader, or on the service node (found by a newcomer)', async () => {
    expect(await usage(() => runCommand.run(['hello', '--nodes', '8', '--hang', '2', '--load', 'direct'], bufferOutput()))).toBe('--down and --hang are fault switches of the job loader: use them with --load two-phase, one-phase or crtc');
    expect(await usage(() => runCommand.run(['hello', '--nodes', '8', '--down', '2', '--load', 'direct'], bufferOutput()))).toMatch(/^--down and --hang are fault switches/);
    expect(await usage(() => runCommand.run(['hello', '--nodes', '8', '--hang', '8'], bufferOutput()))).toBe('--hang: node 8 is the service node, where yod runs; name compute nodes (0..7)');
  });

  it('fails a conformance run that finds no tests, saying so', async () => {
    const out = bufferOutput();
    expect(await conformance.run(['ebpf', dir], out)).toBe(1);
    expect(out.notes).toEqual([`no ebpf tests found in ${dir} (.data files)`]);
  });

  it('names a missing file in one line', async () => {
    expect(await usage(() => image.run(['--check', join(dir, 'nope')], bufferOutput()))).toBe(`cannot read ${join(dir, 'nope')}: no such file`);
  });
});
