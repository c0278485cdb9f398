// The load-time sweep as data: the flags that define it (app, load mode,
// fan-outs, node counts, image padding, machine), the numbered points it
// runs (fan-out major, counts in order, numbered from 1), running one point,
// and joining the points into the curve and its plot. The local runner
// (threads), the job-array runner (--plan/--point/--merge) and the worker
// thread all go through here, so that every way of running a sweep gives
// the same JSON and SVG byte for byte.

import { System } from '../../system/system.ts';
import type { UserProgram } from '../../kernel/abi.ts';
import { type Fanout, type LoadMode, formatFanout, parseFanout } from '../../userland/lib/jobblock.ts';
import { MACHINE_OPTIONS, type Options, type Parsed, UsageError, intOption, machineChoice, parse, str } from '../args.ts';
import { launch } from '../launch.ts';
import { resolveProgram } from '../programs.ts';
import { buildReport } from '../report.ts';
import { svgPlot } from '../svgplot.ts';

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

/** The flags that define a sweep's points (the machine options too); the rest say where its output goes. */
export const SPEC_OPTIONS = {
  ...MACHINE_OPTIONS,
  app: { type: 'string' },
  load: { type: 'string' },
  fanouts: { type: 'string' },
  counts: { type: 'string' },
  'image-bytes': { type: 'string' },
} as const satisfies Options;

export interface SweepSpec {
  readonly parsed: Parsed;
  readonly appArg: string;
  readonly load: LoadMode;
  readonly fanouts: readonly Fanout[];
  readonly counts: readonly number[];
  readonly pad: number;
  /** The defining flags in one fixed order: what a point file records and a plan line repeats. */
  readonly argv: readonly string[];
}

/** One point of a sweep: its number (from 1), fan-out and node count. */
export interface PointRef {
  readonly k: number;
  readonly fanout: Fanout;
  readonly nodes: number;
}

function countsOf(text: string): number[] {
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

/** `1,2,3,5,1024` as `1-3,5,1024`: the counts in their order, runs of consecutive counts as ranges. */
function formatCounts(ns: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ns.length; ) {
    let j = i;
    while (j + 1 < ns.length && ns[j + 1] === ns[j] + 1) j++;
    parts.push(j === i ? String(ns[i]) : `${ns[i]}-${ns[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Reads the defining flags from a parse made with SPEC_OPTIONS (and perhaps output flags). */
export function specOf(p: Parsed): SweepSpec {
  if (str(p, 'shape') !== undefined || str(p, 'nodes') !== undefined) throw new UsageError('sweep chooses the machine for each count: use --counts, not --shape or --nodes');
  const load = str(p, 'load') ?? 'two-phase';
  if (load !== 'two-phase' && load !== 'one-phase') throw new UsageError(`--load must be two-phase or one-phase, got '${load}'`);
  const fanouts: Fanout[] = (str(p, 'fanouts') ?? 'flat,flat-concurrent,tree:2,binomial').split(',').map((t) => {
    const f = parseFanout(t.trim());
    if (f === null) throw new UsageError(`--fanouts: bad fan-out '${t}'`);
    return f;
  });
  const counts = countsOf(str(p, 'counts') ?? '1-64,1024');
  const pad = intOption(p, 'image-bytes', 0, 64 << 20) ?? 0;
  const appArg = str(p, 'app') ?? 'hello';
  const argv = ['--app', appArg, '--load', load, '--fanouts', fanouts.map(formatFanout).join(','), '--counts', formatCounts(counts), '--image-bytes', String(pad)];
  // The machine options as given (a --config path is read where the point runs).
  for (const name of ['profile', 'cores', 'seed', 'config'] as const) {
    const v = str(p, name);
    if (v !== undefined) argv.push(`--${name}`, v);
  }
  for (const s of (p.values.set as string[] | undefined) ?? []) argv.push('--set', s);
  // A machine option that cannot be read is refused now, not at the first point.
  machineChoice({ ...p, values: { ...p.values, nodes: '1' } }, 1);
  return { parsed: p, appArg, load, fanouts, counts, pad, argv };
}

/** The spec a point file or worker carries (its `argv`), read back. */
export function specFromArgv(argv: readonly string[]): SweepSpec {
  return specOf(parse([...argv], SPEC_OPTIONS, 0));
}

export function pointsOf(spec: SweepSpec): PointRef[] {
  const out: PointRef[] = [];
  for (const fanout of spec.fanouts) for (const nodes of spec.counts) out.push({ k: out.length + 1, fanout, nodes });
  return out;
}

/** The program the sweep launches (padded as --image-bytes asks). */
export async function programOf(spec: SweepSpec): Promise<UserProgram> {
  const base = await resolveProgram(spec.appArg);
  return spec.pad > 0 ? { ...base, data: new Uint8Array(spec.pad), dataBytes: Math.max(base.dataBytes, spec.pad) } : base;
}

/** The machine profile's name (the same for every count). */
export function profileName(spec: SweepSpec): string {
  return machineChoice({ ...spec.parsed, values: { ...spec.parsed.values, nodes: '1' } }, 1).profile.name;
}

/** Boots a fresh machine for the point and runs the job on it: a point depends on nothing but the spec. */
export function runPoint(spec: SweepSpec, program: UserProgram, pt: PointRef): SweepPoint {
  const choice = machineChoice({ ...spec.parsed, values: { ...spec.parsed.values, nodes: String(pt.nodes) } }, 1);
  const sys = new System(choice);
  const job = launch(sys, { load: spec.load, fanout: pt.fanout, programs: [program], map: [{ firstNid: 0, count: pt.nodes, image: 0 }], argv: [], timeoutUs: 10_000_000 });
  const stop = sys.run({ done: () => sys.jobDone(job), until: 60e12 });
  const r = buildReport(sys, job, stop, pt.fanout, 0);
  return { nodes: pt.nodes, load_ns: r.phases_ns?.load ?? null, total_ns: r.sim_end_ns, status: r.job.status };
}

/** One progress line's text for a finished point. */
export function describePoint(pt: PointRef, r: SweepPoint): string {
  return `${formatFanout(pt.fanout)} ${pt.nodes} nodes: load ${r.load_ns ?? '-'} ns (${r.status})`;
}

/** Joins the points' results (indexed by point number - 1) into the curve. */
export function assemble(spec: SweepSpec, app: string, profile: string, results: readonly SweepPoint[]): SweepResult {
  const n = spec.counts.length;
  return {
    app,
    load: spec.load,
    profile,
    image_bytes: spec.pad,
    series: spec.fanouts.map((f, i) => ({ fanout: formatFanout(f), points: results.slice(i * n, (i + 1) * n) })),
  };
}

export function resultJson(result: SweepResult): string {
  return JSON.stringify(result, null, 2) + '\n';
}

export function resultSvg(result: SweepResult, logY: boolean): string {
  const series = result.series.map((s) => ({ name: s.fanout, points: s.points.filter((q) => q.load_ns !== null).map((q) => ({ x: q.nodes, y: q.load_ns! / 1000 })) }));
  return svgPlot(`${result.app}: ${result.load} job load on ${result.profile}`, 'compute nodes', 'load phase (us, simulated)', series, { logY });
}
