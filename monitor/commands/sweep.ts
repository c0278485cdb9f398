// `margay sweep`: launches the same job over a range of node counts with
// each fan-out shape and writes the load-time curve as JSON (and an SVG
// plot), to compare flat and hierarchical loading as the seed does. The
// points run in worker threads here (--jobs), or one per job of a job
// array elsewhere (--plan, --point, --merge); the curve is the same.

import { MACHINE_HELP, UsageError, flag, intOption, parse, str } from '../args.ts';
import { writableFile, writeOutput } from '../files.ts';
import type { Output } from '../output.ts';
import { HELP as DSM_HELP, runDsmSweep } from './sweepdsm.ts';
import { LATENCY_HELP, runLatencySweep } from '../sweeps/latency.ts';
import { checkFolder, mergePoints, planLines, pointRef, writePointFile } from '../sweeps/jobarray.ts';
import { SPEC_OPTIONS, type SweepResult, assemble, describePoint, pointsOf, profileName, programOf, resultJson, resultSvg, runPoint, specOf } from '../sweeps/loadsweep.ts';
import { defaultJobs, runPoints } from '../sweeps/threads.ts';

export type { SweepPoint, SweepResult } from '../sweeps/loadsweep.ts';
import { HELP as CRTC_HELP, runCrtcSweep } from './sweepcrtc.ts';

export const HELP = `usage: margay sweep [options]
       margay sweep [options] --plan --out DIR [-o FILE]
       margay sweep [options] --point K --out DIR
       margay sweep --merge DIR [-o FILE] [--svg FILE]
       margay sweep dsm [options]   (the DSM comparison: see the end)
       margay sweep crtc --figure N (remote tasking, seed 002: see the end)

Runs one job per (fan-out, node count) and reports the simulated time of
each phase; the load phase is the seed's "remote task creation" time.

  --app A            program to launch (default hello)
  --load L           two-phase (default) or one-phase
  --fanouts LIST     fan-outs to compare (default flat,flat-concurrent,tree:2,binomial)
  --counts LIST      node counts, e.g. 1-64,1024 (default 1-64,1024)
  --image-bytes N    pad the executable with N bytes of initialised data
  -o, --output FILE  write the curve as JSON to FILE (default: stdout)
  --svg FILE         also plot load time against nodes as SVG (log-2 x axis
                     when the counts span a factor of 10 or more)
  --log-y            plot the load time on a log scale
  --json             print the JSON on stdout (the default without -o)
  --jobs N           run N points at once in worker threads (default: one
                     per core); the JSON is the same for any N. Progress,
                     [done/total], goes to stderr (one updated line on a
                     terminal, else a line per point)

As a job array (Slurm --array, GNU parallel), past one host:
  --plan             write one shell command per point (line K runs point K;
                     to -o FILE or stdout); needs --out DIR
  --point K          run point K only and write DIR/point-K.json; needs --out DIR
  --out DIR          the existing folder the points' files go to
  --merge DIR        join DIR's point files (*.json; other files are left
                     alone) into the JSON and SVG a local sweep writes;
                     missing, duplicate or foreign points are refused

${MACHINE_HELP}

${DSM_HELP}

${LATENCY_HELP}

${CRTC_HELP}`;

const OUTPUT_OPTIONS = { output: { type: 'string', short: 'o' }, svg: { type: 'string' }, 'log-y': { type: 'boolean' }, json: { type: 'boolean' } } as const;
const RUNNER_OPTIONS = { jobs: { type: 'string' }, plan: { type: 'boolean' }, point: { type: 'string' }, out: { type: 'string' }, merge: { type: 'string' } } as const;

/** Throws naming the first of `names` given with `mode` (they make no sense together). */
function refuse(values: Record<string, unknown>, names: readonly string[], mode: string, why: string): void {
  const given = names.find((n) => values[n] !== undefined);
  if (given !== undefined) throw new UsageError(`${mode} ${why}: no --${given === 'output' ? 'output (-o)' : given}`);
}

/** Writes the curve where the flags say: -o FILE and/or stdout, and --svg. */
function emit(result: SweepResult, values: Record<string, unknown>, out: Output): void {
  const file = values.output as string | undefined;
  const svg = values.svg as string | undefined;
  if (file !== undefined) writeOutput(file, '-o', resultJson(result));
  if (file === undefined || values.json === true) out.json(result);
  if (svg !== undefined) {
    writeOutput(svg, '--svg', resultSvg(result, values['log-y'] === true));
    out.note(`wrote ${svg}`);
  }
}

export async function run(argv: string[], out: Output): Promise<number> {
  if (argv[0] === 'dsm') return runDsmSweep(argv.slice(1), out); // the DSM comparison (sweepdsm.ts)
  // `margay sweep latency`: issue 13's message paths, round trip against size.
  if (argv[0] === 'latency') return runLatencySweep(argv.slice(1), out);
  // `margay sweep crtc`: issue 14's remote-tasking figures (sweepcrtc.ts).
  if (argv[0] === 'crtc') return runCrtcSweep(argv.slice(1), out);
  const p = parse(argv, { ...SPEC_OPTIONS, ...OUTPUT_OPTIONS, ...RUNNER_OPTIONS }, 0);
  const v = p.values;
  const file = str(p, 'output');
  const svg = str(p, 'svg');
  // Before the sweep, not after it: an output file that cannot be written.
  const checkOutputs = () => {
    if (file !== undefined) writableFile(file, '-o');
    if (svg !== undefined) writableFile(svg, '--svg');
  };

  const mergeDir = str(p, 'merge');
  if (mergeDir !== undefined) {
    refuse(v, [...Object.keys(SPEC_OPTIONS), 'jobs', 'plan', 'point', 'out'], '--merge', 'reads the sweep from its point files');
    checkOutputs();
    emit(mergePoints(mergeDir).result, v, out);
    return 0;
  }

  const spec = specOf(p);
  const dir = str(p, 'out');
  if (flag(p, 'plan')) {
    refuse(v, ['jobs', 'point', 'svg', 'log-y', 'json'], '--plan', 'writes the command lines only');
    if (dir === undefined) throw new UsageError('--plan needs --out DIR, the folder each point writes its file to');
    checkFolder(dir, '--out');
    checkOutputs();
    const lines = planLines(spec, dir, process.cwd());
    if (file !== undefined) {
      writeOutput(file, '-o', lines.join('\n') + '\n');
      out.note(`wrote ${file}: ${lines.length} points, one command a line`);
    } else lines.forEach((l) => out.say(l));
    return 0;
  }
  const pointText = str(p, 'point');
  if (pointText !== undefined) {
    refuse(v, ['jobs', 'output', 'svg', 'log-y', 'json'], '--point', 'writes DIR/point-K.json only');
    if (dir === undefined) throw new UsageError('--point needs --out DIR, the folder to write its file to');
    checkFolder(dir, '--out');
    const pt = pointRef(spec, pointText);
    const program = await programOf(spec);
    const r = runPoint(spec, program, pt);
    const written = writePointFile(dir, spec, pt, program.name, profileName(spec), r);
    out.note(`[${pt.k}/${pointsOf(spec).length}] ${describePoint(pt, r)}: wrote ${written}`);
    return 0;
  }
  if (dir !== undefined) throw new UsageError('--out goes with --plan or --point (a local sweep writes -o FILE)');

  const jobs = intOption(p, 'jobs', 1, 1024) ?? defaultJobs();
  checkOutputs();
  const results = await runPoints(spec, jobs, (pt, r, done, total) => {
    const line = `[${done}/${total}] ${describePoint(pt, r)}`;
    if (out.progress) out.progress(line, done === total);
    else out.note(line);
  });
  const program = await programOf(spec);
  emit(assemble(spec, program.name, profileName(spec), results), v, out);
  return 0;
}
