// `margay sweep`: launches the same job over a range of node counts with
// each fan-out shape and writes the load-time curve as JSON (and an SVG
// plot), to compare flat and hierarchical loading as the seed does.

import { System } from '../../system/system.ts';
import { type Fanout, type LoadMode, formatFanout, parseFanout } from '../../userland/lib/jobblock.ts';
import { MACHINE_HELP, MACHINE_OPTIONS, UsageError, flag, intOption, machineChoice, parse, str } from '../args.ts';
import { launch } from '../launch.ts';
import { writableFile, writeOutput } from '../files.ts';
import type { Output } from '../output.ts';
import { resolveProgram } from '../programs.ts';
import { buildReport } from '../report.ts';
import { svgPlot } from '../svgplot.ts';
import { HELP as DSM_HELP, runDsmSweep } from './sweepdsm.ts';
import { LATENCY_HELP, runLatencySweep } from '../sweeps/latency.ts';
import { HELP as CRTC_HELP, runCrtcSweep } from './sweepcrtc.ts';

export const HELP = `usage: margay sweep [options]
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

${MACHINE_HELP}

${DSM_HELP}

${LATENCY_HELP}

${CRTC_HELP}`;

export interface SweepPoint {
  nodes: number;
  load_ns: number | null;
  total_ns: number;
  status: string;
}

export interface SweepResult {
  app: string;
  load: LoadMode;
  profile: string;
  image_bytes: number;
  series: { fanout: string; points: SweepPoint[] }[];
}

function counts(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) throw new UsageError(`--counts: '${part}' is not a count or a range`);
    const a = Number(m[1]);
    const b = Number(m[2] ?? m[1]);
    if (a < 1 || b > 100_000 || b < a) throw new UsageError(`--counts: '${part.trim()}' must name node counts from 1 to 100000, low to high`);
    for (let n = a; n <= b; n++) out.push(n);
  }
  return out;
}

export async function run(argv: string[], out: Output): Promise<number> {
  if (argv[0] === 'dsm') return runDsmSweep(argv.slice(1), out); // the DSM comparison (sweepdsm.ts)
  // `margay sweep latency`: issue 13's message paths, round trip against size.
  if (argv[0] === 'latency') return runLatencySweep(argv.slice(1), out);
  // `margay sweep crtc`: issue 14's remote-tasking figures (sweepcrtc.ts).
  if (argv[0] === 'crtc') return runCrtcSweep(argv.slice(1), out);
  const p = parse(argv, { ...MACHINE_OPTIONS, app: { type: 'string' }, load: { type: 'string' }, fanouts: { type: 'string' }, counts: { type: 'string' }, 'image-bytes': { type: 'string' }, output: { type: 'string', short: 'o' }, svg: { type: 'string' }, 'log-y': { type: 'boolean' }, json: { type: 'boolean' } }, 0);
  if (str(p, 'shape') !== undefined || str(p, 'nodes') !== undefined) throw new UsageError('sweep chooses the machine for each count: use --counts, not --shape or --nodes');
  const load = str(p, 'load') ?? 'two-phase';
  if (load !== 'two-phase' && load !== 'one-phase') throw new UsageError(`--load must be two-phase or one-phase, got '${load}'`);
  const fanouts: Fanout[] = (str(p, 'fanouts') ?? 'flat,flat-concurrent,tree:2,binomial').split(',').map((t) => {
    const f = parseFanout(t.trim());
    if (f === null) throw new UsageError(`--fanouts: bad fan-out '${t}'`);
    return f;
  });
  const ns = counts(str(p, 'counts') ?? '1-64,1024');
  const pad = intOption(p, 'image-bytes', 0, 64 << 20) ?? 0;
  // Before the sweep, not after it: an output file that cannot be written.
  const file = str(p, 'output');
  const svg = str(p, 'svg');
  if (file !== undefined) writableFile(file, '-o');
  if (svg !== undefined) writableFile(svg, '--svg');
  const base = await resolveProgram(str(p, 'app') ?? 'hello');
  const program = pad > 0 ? { ...base, data: new Uint8Array(pad), dataBytes: Math.max(base.dataBytes, pad) } : base;
  const result: SweepResult = { app: base.name, load, profile: '', image_bytes: pad, series: [] };
  for (const f of fanouts) {
    const points: SweepPoint[] = [];
    for (const n of ns) {
      p.values.nodes = String(n);
      const choice = machineChoice(p, 1);
      result.profile = choice.profile.name;
      const sys = new System(choice);
      const job = launch(sys, { load, fanout: f, programs: [program], map: [{ firstNid: 0, count: n, image: 0 }], argv: [], timeoutUs: 10_000_000 });
      const stop = sys.run({ done: () => sys.jobDone(job), until: 60e12 });
      const r = buildReport(sys, job, stop, f, 0);
      points.push({ nodes: n, load_ns: r.phases_ns?.load ?? null, total_ns: r.sim_end_ns, status: r.job.status });
      if (str(p, 'output') !== undefined) out.note(`${formatFanout(f)} ${n} nodes: load ${r.phases_ns?.load ?? '-'} ns (${r.job.status})`);
    }
    result.series.push({ fanout: formatFanout(f), points });
  }
  if (file !== undefined) writeOutput(file, '-o', JSON.stringify(result, null, 2) + '\n');
  if (file === undefined || flag(p, 'json')) out.json(result);
  if (svg !== undefined) {
    const series = result.series.map((s) => ({ name: s.fanout, points: s.points.filter((q) => q.load_ns !== null).map((q) => ({ x: q.nodes, y: q.load_ns! / 1000 })) }));
    writeOutput(svg, '--svg', svgPlot(`${result.app}: ${load} job load on ${result.profile}`, 'compute nodes', 'load phase (us, simulated)', series, { logY: flag(p, 'log-y') }));
    out.note(`wrote ${svg}`);
  }
  return 0;
}
