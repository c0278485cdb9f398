// `margay sweep` run three ways gives one curve: in this thread (--jobs 1),
// in worker threads (--jobs N), and as a job array (--plan, then each line
// run by the shell or GNU parallel, then --merge). The JSON and the SVG
// must be the same byte for byte; a merge folder that is not exactly one
// sweep's points is refused with one line naming the problem. The curves
// compared are all made by the margay command (bin/margay.js, under tsx):
// a program's text bytes are its main function's source as the loader
// compiled it, so a sweep run inside vitest (compiled by vite) loads a
// different image and is not comparable byte for byte.

import { execSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../monitor/args.ts';
import * as sweep from '../../monitor/commands/sweep.ts';
import { bufferOutput } from '../../monitor/output.ts';

const BIN = resolve('bin/margay.js');
/** Four points of two fan-outs, small enough to boot in a moment each. */
const SWEEP = ['--app', 'hello', '--fanouts', 'flat,binomial', '--counts', '2,8'];
const POINTS = 4;
/** Whether GNU parallel is here to run the plan (else the shell runs its lines one by one). */
const HAS_PARALLEL = spawnSync('parallel', ['--version'], { encoding: 'utf8' }).stdout?.startsWith('GNU parallel') ?? false;

function margay(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function usage(argv: string[]): Promise<string> {
  try {
    await sweep.run(argv, bufferOutput());
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
  throw new Error(`no usage error from ${argv.join(' ')}`);
}

let tmp: string;
/** The local sweep's files (--jobs 1): what every other way must reproduce. */
let localJson: string;
let localSvg: string;
/** A folder holding all the points of SWEEP, each run by its plan line in a shell. */
let pointsDir: string;
let planText: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'margay-sweep-'));
  expect(margay('sweep', ...SWEEP, '--jobs', '1', '-o', join(tmp, 'local.json'), '--svg', join(tmp, 'local.svg')).code).toBe(0);
  localJson = readFileSync(join(tmp, 'local.json'), 'utf8');
  localSvg = readFileSync(join(tmp, 'local.svg'), 'utf8');
  pointsDir = join(tmp, 'points');
  mkdirSync(pointsDir);
  expect(await sweep.run([...SWEEP, '--plan', '--out', pointsDir, '-o', join(tmp, 'plan.txt')], bufferOutput())).toBe(0);
  planText = readFileSync(join(tmp, 'plan.txt'), 'utf8');
  // Line K of the plan runs point K: GNU parallel runs the lines two at a time; a Slurm array task runs one (here, the shell).
  if (HAS_PARALLEL) execSync(`parallel --will-cite --halt now,fail=1 -j 2 < ${join(tmp, 'plan.txt')}`, { stdio: 'pipe', shell: '/bin/sh' });
  else for (const line of planText.trimEnd().split('\n')) execSync(line, { stdio: 'pipe', shell: '/bin/sh' });
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('margay sweep --jobs', () => {
  it('writes the same JSON and SVG byte for byte with three worker threads as with one thread, a progress line per point on a stderr that is not a terminal', () => {
    const r = margay('sweep', ...SWEEP, '--jobs', '3', '-o', join(tmp, 'threads.json'), '--svg', join(tmp, 'threads.svg'));
    expect(r.code).toBe(0);
    expect(readFileSync(join(tmp, 'threads.json'), 'utf8')).toBe(localJson);
    expect(readFileSync(join(tmp, 'threads.svg'), 'utf8')).toBe(localSvg);
    expect(JSON.parse(localJson).series.map((s: { points: unknown[] }) => s.points.length)).toEqual([2, 2]);
    // Every point reported once, counted up to the total, whatever order they finished in; then the SVG's note.
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.slice(0, POINTS)).toEqual(Array.from({ length: POINTS }, (_, i) => expect.stringMatching(new RegExp(`^\\[${i + 1}/${POINTS}\\] (flat|binomial) (2|8) nodes: load \\d+ ns \\(completed\\)$`))));
    expect(lines.slice(POINTS)).toEqual([`wrote ${join(tmp, 'threads.svg')}`]);
  });

  it('refuses a job count that is not a whole number from 1', async () => {
    expect(await usage([...SWEEP, '--jobs', '0'])).toBe("--jobs must be a whole number from 1 to 1024, got '0'");
    expect(await usage([...SWEEP, '--jobs', 'many'])).toBe("--jobs must be a whole number from 1 to 1024, got 'many'");
  });
});

describe('margay sweep as a job array (--plan, --point, --merge)', () => {
  it('plans one shell command per point, line K running point K into the folder', async () => {
    const lines = planText.trimEnd().split('\n');
    expect(lines).toHaveLength(POINTS);
    lines.forEach((l, i) => expect(l).toMatch(new RegExp(`^cd \\S+ && \\S+ \\S+/bin/margay\\.js sweep .* --point ${i + 1} --out \\S+$`)));
    expect(readdirSync(pointsDir).sort()).toEqual(Array.from({ length: POINTS }, (_, i) => `point-${i + 1}.json`));
    // Without -o the plan goes to stdout, the same lines.
    const out = bufferOutput();
    expect(await sweep.run([...SWEEP, '--plan', '--out', pointsDir], out)).toBe(0);
    expect(out.lines.join('\n') + '\n').toBe(planText);
  });

  it('merges the points into the same JSON and SVG as the local sweep, byte for byte', async () => {
    expect(await sweep.run(['--merge', pointsDir, '-o', join(tmp, 'merged.json'), '--svg', join(tmp, 'merged.svg')], bufferOutput())).toBe(0);
    expect(readFileSync(join(tmp, 'merged.json'), 'utf8')).toBe(localJson);
    expect(readFileSync(join(tmp, 'merged.svg'), 'utf8')).toBe(localSvg);
  });

  it.skipIf(!HAS_PARALLEL)(`ran the plan under GNU parallel, two points at a time, into the folder the merge above joined${HAS_PARALLEL ? '' : ' [skipped: GNU parallel is not on PATH; apt-get install parallel]'}`, () => {
    // The points beforeAll ran with GNU parallel are the ones merged byte for byte above; here, that they are all there, each once.
    expect(readdirSync(pointsDir).filter((n) => n.endsWith('.json')).sort()).toEqual(Array.from({ length: POINTS }, (_, i) => `point-${i + 1}.json`));
    expect(readdirSync(pointsDir).filter((n) => n.endsWith('.part'))).toEqual([]);
  });

  it('merges whatever else the folder holds besides *.json, printing the curve on stdout without -o', async () => {
    // A job's log beside the points is not a point.
    writeFileSync(join(pointsDir, 'slurm-77_3.out'), 'log\n');
    const out = bufferOutput();
    expect(await sweep.run(['--merge', pointsDir], out)).toBe(0);
    expect(JSON.stringify(out.docs[0], null, 2) + '\n').toBe(localJson);
    rmSync(join(pointsDir, 'slurm-77_3.out'));
  });

  it('refuses a merge folder that lacks points, naming them (any subset, checked over a sample)', async () => {
    const names = readdirSync(pointsDir).filter((n) => n.endsWith('.json')).sort();
    await fc.assert(
      fc.asyncProperty(fc.subarray(names, { minLength: 1, maxLength: names.length - 1 }), async (kept) => {
        const dir = mkdtempSync(join(tmp, 'subset-'));
        for (const n of kept) copyFileSync(join(pointsDir, n), join(dir, n));
        const missing = names.filter((n) => !kept.includes(n)).map((n) => Number(/\d+/.exec(n)![0]));
        expect(await usage(['--merge', dir])).toBe(`${dir} lacks point${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${POINTS} (run them with --point K)`.replace(/^/, '--merge: '));
        rmSync(dir, { recursive: true });
      }),
      { seed: 17, numRuns: 12 },
    );
  });

  it('refuses a merge folder holding one point twice, or a point of another sweep', async () => {
    const dir = mkdtempSync(join(tmp, 'dup-'));
    for (const n of readdirSync(pointsDir)) copyFileSync(join(pointsDir, n), join(dir, n));
    copyFileSync(join(dir, 'point-3.json'), join(dir, 'point-3 (copy).json'));
    expect(await usage(['--merge', dir])).toBe(`--merge: ${join(dir, 'point-3 (copy).json')} and ${join(dir, 'point-3.json')} both hold point 3 (binomial 2 nodes: load ${JSON.parse(localJson).series[1].points[0].load_ns} ns (completed))`);
    rmSync(join(dir, 'point-3 (copy).json'));
    // Point 2 of a sweep over other counts.
    const other = mkdtempSync(join(tmp, 'other-'));
    expect(await sweep.run(['--app', 'hello', '--fanouts', 'flat,binomial', '--counts', '1-4', '--point', '2', '--out', other], bufferOutput())).toBe(0);
    copyFileSync(join(other, 'point-2.json'), join(dir, 'point-9.json'));
    expect(await usage(['--merge', dir])).toBe(`--merge: ${join(dir, 'point-9.json')} is a point of another sweep than ${join(dir, 'point-1.json')} (--counts 1-4 against --counts 2,8)`);
    // The same sweep on another profile is another sweep too.
    rmSync(join(dir, 'point-9.json'));
    expect(await sweep.run([...SWEEP, '--profile', 'paragon', '--point', '2', '--out', other], bufferOutput())).toBe(0);
    copyFileSync(join(other, 'point-2.json'), join(dir, 'point-9.json'));
    expect(await usage(['--merge', dir])).toMatch(/point-9\.json is a point of another sweep than .*point-1\.json \(--profile paragon against no flag\)$/);
  });

  it('refuses a *.json file in the merge folder that is not a point\'s JSON', async () => {
    for (const [name, text] of [
      ['notes.json', 'not json at all'],
      ['other.json', '{"app":"hello","series":[]}'],
      ['forged.json', readFileSync(join(pointsDir, 'point-1.json'), 'utf8').replace('"point": 1', '"point": "one"')],
    ]) {
      const dir = mkdtempSync(join(tmp, 'bad-'));
      copyFileSync(join(pointsDir, 'point-1.json'), join(dir, 'point-1.json'));
      writeFileSync(join(dir, name), text);
      expect(await usage(['--merge', dir])).toBe(`--merge: ${join(dir, name)} is not a sweep point's JSON (margay sweep --point K --out ${dir} writes them)`);
    }
    // A point file whose number does not match its fan-out and count.
    const dir = mkdtempSync(join(tmp, 'renumbered-'));
    writeFileSync(join(dir, 'point-1.json'), readFileSync(join(pointsDir, 'point-2.json'), 'utf8').replace('"point": 2', '"point": 1'));
    expect(await usage(['--merge', dir])).toBe(`--merge: ${join(dir, 'point-1.json')} does not hold point 1 of its sweep (flat 8 nodes)`);
  });

  it('refuses bad job-array flags with one line and exit code 2', async () => {
    const cases: [string[], string][] = [
      [['--merge', join(tmp, 'nowhere')], `--merge: no such folder ${join(tmp, 'nowhere')}`],
      [['--merge', join(tmp, 'local.json')], `--merge: ${join(tmp, 'local.json')} is not a folder`],
      [['--merge', tmp, '--counts', '1-4'], '--merge reads the sweep from its point files: no --counts'],
      [['--merge', mkdtempSync(join(tmp, 'empty-'))], expect.stringMatching(/^--merge: .*empty-\w+ holds no point files \(\*\.json\)$/) as unknown as string],
      [[...SWEEP, '--point', '0', '--out', tmp], `--point: '0' is not a point of this sweep (it has points 1 to ${POINTS})`],
      [[...SWEEP, '--point', String(POINTS + 1), '--out', tmp], `--point: '${POINTS + 1}' is not a point of this sweep (it has points 1 to ${POINTS})`],
      [[...SWEEP, '--point', 'x', '--out', tmp], `--point: 'x' is not a point of this sweep (it has points 1 to ${POINTS})`],
      [[...SWEEP, '--point', '1'], '--point needs --out DIR, the folder to write its file to'],
      [[...SWEEP, '--point', '1', '--out', join(tmp, 'nowhere')], `--out: no such folder ${join(tmp, 'nowhere')}`],
      [[...SWEEP, '--point', '1', '--out', tmp, '--jobs', '2'], '--point writes DIR/point-K.json only: no --jobs'],
      [[...SWEEP, '--plan'], '--plan needs --out DIR, the folder each point writes its file to'],
      [[...SWEEP, '--plan', '--out', join(tmp, 'nowhere')], `--out: no such folder ${join(tmp, 'nowhere')}`],
      [[...SWEEP, '--out', tmp], '--out goes with --plan or --point (a local sweep writes -o FILE)'],
    ];
    for (const [argv, message] of cases) expect(await usage(argv), argv.join(' ')).toEqual(message);
    const r = margay('sweep', ...SWEEP, '--point', '99', '--out', tmp);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`margay sweep: --point: '99' is not a point of this sweep (it has points 1 to ${POINTS})\n`);
  });
});
