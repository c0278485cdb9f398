// `margay run`: boots a machine with compute nodes and a service node,
// launches a program through yod (two-phase by default) or directly as the
// init task on every node, runs it to the end and prints a summary or, with
// --json, the report.

import { parseTime } from '../../hw/time.ts';
import { type OnFailure, System } from '../../system/system.ts';
import { type Fanout, type LoadMode, parseFanout } from '../../userland/lib/jobblock.ts';
import type { PersonalityName } from '../../kernel/ipc/personality.ts';
import { ALGORITHM_CODE, CREATION_CODE, DEFAULT_RTASK, PAGING_CODE, type RtaskChoice } from '../../userland/lib/rtask.ts';
import { MACHINE_HELP, MACHINE_OPTIONS, type Parsed, UsageError, flag, intOption, machineChoice, parse, str } from '../args.ts';
import { launch } from '../launch.ts';
import type { Output } from '../output.ts';
import { writableFile } from '../files.ts';
import { runWatched } from '../hostwatch.ts';
import { appNames, checkProgram, resolveProgram } from '../programs.ts';
import { buildReport, summaryLines } from '../report.ts';

export const HELP = `usage: margay run <app | ./path/to/program.ts> [options] [-- args]

Boots the machine (compute nodes plus a service node, the last node), has
yod on the service node launch the program over a fan-out tree, runs until
yod has the job's exit status, and reports per-phase times, per-rank exit
status, output and published results.

  --load L           two-phase (default: init is loaded first and fetches the
                     executable), one-phase (the executable, init linked in),
                     crtc (Mach-style remote tasking: the service node's kernel
                     creates every rank's task from a template of the
                     executable, pages follow on first touch; see
                     docs/REMOTE-TASKING.md), or direct (no loader: the
                     program starts as the init task on every node, as
                     Kitten starts its init_task)
  --algorithm A      crtc: ntc (one synchronous request per step and per VM
                     area) or crtc (batched, overlapped; default)
  --creation C       crtc: flat (the source creates one task after another),
                     flat-mt (--creators threads at the source) or tree
                     (the binary spanning tree, pipelined; default)
  --paging P         crtc: flat (every task pages from the source) or tree
                     (from its parent; needs --creation tree; the default
                     with it)
  --nms on|off       crtc: No More Senders count updates (default off)
  --vm-areas N       crtc: VM areas in the template, 3 (the image's text,
                     data and bss; default) to 1024
  --creators N       crtc with flat-mt: creating threads (default 4)
  --transport T      the kernels' distributed IPC (kernel/ipc/, docs/IPC.md):
                     dipc (concurrent, large windows; default) or norma
                     (stop-and-wait, a page at a time)
  --fanout F         flat, flat-concurrent, tree:K or binomial (default)
  --load-timeout T   give up on nodes that do not answer within T (default 1s)
  --ranks N          ranks on nodes 0..N-1 (default: every compute node)
  --on-failure W     when a rank fails (nonzero exit, signal, fault, kill):
                     end (default: its kernel tells yod at once, yod names
                     the rank, status and reason and kills the job, as
                     mpirun does) or continue (the other ranks run on until
                     they end by themselves or a limit stops the run)
  --no-shootdown     do not send TLB shootdown IPIs (stale TLB entries stay)
  --time-limit T     stop after T of simulated time (default 10s; e.g. 500ms, 2s)
  --host-limit T     stop after T of host (wall-clock) time with a partial
                     report (default 10min; e.g. 30s, 2min). A program step
                     that runs min(T, 10s) without yielding (a loop with no
                     yield*) is stopped by a watchdog that names its rank.
                     Long runs print a progress line on stderr; Ctrl-C stops
                     the run with a partial report.
  --down NODES       fault switch: these nodes are down (e.g. 3,5,8-11)
  --hang NODES       fault switch: these nodes' kernels never answer
  --corrupt-in-transit  fault switch: flip one bit of the first message
                     carrying 512 bytes or more (an image on its way)
  --trace FILE       write every kernel step to FILE as JSON lines
  --check            type-check your program.ts first (TypeScript's checker);
                     type errors are listed one per line and nothing runs
  --lines N          program output lines shown per rank in the summary
                     (default 8; 'all' for every line)
  --json             print the report as one JSON document (schema: docs/REPORT.md)

With neither --nodes nor --shape the machine has 16 compute nodes. --nodes N
gives N compute nodes plus the service node; with --shape the last node of
the shape is the service node (direct loads use every node).
apps: ${appNames().join(', ')}

${MACHINE_HELP}`;

export const RUN_OPTIONS = {
  ...MACHINE_OPTIONS,
  'no-shootdown': { type: 'boolean' },
  'time-limit': { type: 'string' },
  'host-limit': { type: 'string' },
  'load-timeout': { type: 'string' },
  trace: { type: 'string' },
  check: { type: 'boolean' },
  lines: { type: 'string' },
  json: { type: 'boolean' },
  load: { type: 'string' },
  fanout: { type: 'string' },
  ranks: { type: 'string' },
  down: { type: 'string' },
  hang: { type: 'string' },
  'corrupt-in-transit': { type: 'boolean' },
  algorithm: { type: 'string' },
  creation: { type: 'string' },
  paging: { type: 'string' },
  nms: { type: 'string' },
  'vm-areas': { type: 'string' },
  creators: { type: 'string' },
  transport: { type: 'string' },
  'on-failure': { type: 'string' },
} as const;

/** Parses a node list such as 3,5,8-11 (every node must exist). */
export function nodeList(text: string, flagName: string, size: number): number[] {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) throw new UsageError(`--${flagName}: '${part}' is not a node or a range of nodes`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b >= size) throw new UsageError(`--${flagName}: nodes must be in 0..${size - 1}, got '${part}'`);
    for (let n = a; n <= b; n++) out.push(n);
  }
  return out;
}

/** Applies the fault switches of a run command line to a booted system. */
export function applyFaults(p: Parsed, sys: System, loaded = true): void {
  const down = str(p, 'down');
  const hang = str(p, 'hang');
  // They act on the loader's conversation: without a loader they would change nothing, silently.
  if (!loaded && (down !== undefined || hang !== undefined)) throw new UsageError('--down and --hang are fault switches of the job loader: use them with --load two-phase, one-phase or crtc');
  const service = sys.machine.size - 1;
  const nodes = (text: string, name: string) => {
    const ns = nodeList(text, name, sys.machine.size);
    if (ns.includes(service)) throw new UsageError(`--${name}: node ${service} is the service node, where yod runs; name compute nodes (0..${service - 1})`);
    return ns;
  };
  if (down !== undefined) for (const n of nodes(down, 'down')) sys.machine.network.setNodeDown(n, true);
  if (hang !== undefined) for (const n of nodes(hang, 'hang')) sys.hangKernel(n);
  if (flag(p, 'corrupt-in-transit')) sys.machine.corruptInTransit(1, 512);
}

export async function run(argv: string[], out: Output): Promise<number> {
  return runJob(parse(argv, RUN_OPTIONS, 1), out);
}

function timeOption(p: Parsed, name: string, dflt: string): number {
  try {
    return parseTime(str(p, name) ?? dflt);
  } catch (e) {
    throw new UsageError(`--${name}: ${(e as Error).message}`);
  }
}

/** Parses --host-limit: a number with ms, s, min or h (seconds when bare); returns seconds. */
export function hostLimitSeconds(p: Parsed): number {
  const text = str(p, 'host-limit') ?? '10min';
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h)?\s*$/.exec(text);
  const s = m === null ? NaN : Number(m[1]) * { ms: 1e-3, s: 1, min: 60, h: 3600 }[(m[2] ?? 's') as 's'];
  if (!(s >= 0.01 && s <= 7 * 86400)) throw new UsageError(`--host-limit must be a time between 10ms and 7 days such as 30s, 2min or 1h, got '${text}'`);
  return s;
}

export interface JobChoice {
  readonly load: LoadMode | 'direct';
  readonly fanout: Fanout;
  readonly timeoutPs: number;
  /** --load crtc's choices (the defaults otherwise). */
  readonly rtask: RtaskChoice;
}

const RTASK_FLAGS = ['algorithm', 'creation', 'paging', 'nms', 'vm-areas', 'creators'] as const;

/** Resolves --algorithm, --creation, --paging, --nms, --vm-areas and --creators (only with --load crtc). */
export function rtaskChoice(p: Parsed, load: string): RtaskChoice {
  const given = RTASK_FLAGS.filter((f) => str(p, f) !== undefined);
  if (load !== 'crtc') {
    if (given.length > 0) throw new UsageError(`--${given[0]} is a remote-tasking option: use it with --load crtc`);
    return DEFAULT_RTASK;
  }
  const pick = <T extends string>(name: string, table: Readonly<Record<T, number>>, dflt: T): T => {
    const v = str(p, name) ?? dflt;
    if (!Object.hasOwn(table, v)) throw new UsageError(`--${name} must be ${Object.keys(table).join(', ').replace(/, ([^,]*)$/, ' or $1')}, got '${v}'`);
    return v as T;
  };
  const algorithm = pick('algorithm', ALGORITHM_CODE, DEFAULT_RTASK.algorithm);
  const creation = pick('creation', CREATION_CODE, DEFAULT_RTASK.creation);
  const paging = pick('paging', PAGING_CODE, creation === 'tree' ? 'tree' : 'flat');
  if (paging === 'tree' && creation !== 'tree') throw new UsageError('--paging tree follows the creation tree: use it with --creation tree');
  const nms = str(p, 'nms') ?? 'off';
  if (nms !== 'on' && nms !== 'off') throw new UsageError(`--nms must be on or off, got '${nms}'`);
  const vmAreas = intOption(p, 'vm-areas', 3, 1024) ?? DEFAULT_RTASK.vmAreas;
  const threads = intOption(p, 'creators', 1, 64) ?? DEFAULT_RTASK.threads;
  if (str(p, 'creators') !== undefined && creation !== 'flat-mt') throw new UsageError('--creators sets the creating threads of --creation flat-mt');
  return { algorithm, creation, paging, nms: nms === 'on', vmAreas, threads };
}

/** --lines N | all: program output lines per rank in the summary. */
function linesOption(p: Parsed): number {
  const v = str(p, 'lines');
  if (v === undefined) return 8;
  if (v === 'all') return Infinity;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 0 || n > 1_000_000) throw new UsageError(`--lines must be a count (0..1000000) or 'all', got '${v}'`);
  return n;
}

/** Resolves --load, --fanout and --load-timeout. */
export function jobChoice(p: Parsed): JobChoice {
  const load = str(p, 'load') ?? 'two-phase';
  if (load !== 'two-phase' && load !== 'one-phase' && load !== 'crtc' && load !== 'direct') throw new UsageError(`--load must be two-phase, one-phase, crtc or direct, got '${load}'`);
  const fanout = parseFanout(str(p, 'fanout') ?? 'binomial');
  if (fanout === null) throw new UsageError(`--fanout must be flat, flat-concurrent, tree:K (K 1..1024) or binomial, got '${str(p, 'fanout')}'`);
  if ((load === 'direct' || load === 'crtc') && str(p, 'fanout') !== undefined) throw new UsageError('--fanout is the loader\'s tree (--load two-phase or one-phase); remote tasking takes --creation');
  const timeoutPs = timeOption(p, 'load-timeout', '1s');
  if (timeoutPs < 1e6 || timeoutPs > 3600e12) throw new UsageError('--load-timeout must be between 1us and 1h');
  return { load, fanout, timeoutPs, rtask: rtaskChoice(p, load) };
}

/** --on-failure end|continue: what a rank's failure does to the job (yod's, or the host's for --load direct). */
export function onFailureOption(value: string | undefined): OnFailure {
  const v = value ?? 'end';
  if (v !== 'end' && v !== 'continue') throw new UsageError(`--on-failure must be end or continue, got '${v}'`);
  return v;
}

/** --transport norma|dipc: the personality of the kernels' IPC transport. */
export function transportOption(p: Parsed): PersonalityName {
  const t = str(p, 'transport') ?? 'dipc';
  if (t !== 'norma' && t !== 'dipc') throw new UsageError(`--transport must be norma or dipc, got '${t}'`);
  return t;
}

/** How the report names the job's tree: the loader's fan-out, or remote tasking's choices. */
function treeName(jc: JobChoice, transport: PersonalityName): Fanout | string | null {
  if (jc.load === 'direct') return null;
  if (jc.load !== 'crtc') return jc.fanout;
  return crtcTreeName(jc.rtask, transport);
}

/** Remote tasking's choices as the report and the monitor name them ("flat (ntc algorithm, flat paging, ...)"). */
export function crtcTreeName(r: RtaskChoice, transport: PersonalityName): string {
  return `${r.creation}${r.creation === 'flat-mt' ? ` x${r.threads}` : ''} (${r.algorithm} algorithm, ${r.paging} paging, nms ${r.nms ? 'on' : 'off'}, ${r.vmAreas} VM areas, ${transport})`;
}

/** Runs a parsed `margay run` command line (shared with `margay start`). */
export async function runJob(p: Parsed, out: Output): Promise<number> {
  const name = p.positionals[0];
  if (name === undefined) throw new UsageError('name an app or a program file (try margay run hello)');
  const jc = jobChoice(p);
  const loaded = jc.load !== 'direct';
  if (str(p, 'shape') === undefined && str(p, 'nodes') === undefined) p.values.nodes = '16';
  const choice = machineChoice(p, loaded && str(p, 'nodes') !== undefined ? 1 : 0);
  const limit = timeOption(p, 'time-limit', '10s');
  if (flag(p, 'check')) await checkProgram(name);
  const outputLines = linesOption(p);
  const hostLimitS = hostLimitSeconds(p);
  const program = await resolveProgram(name);
  const transport = transportOption(p);
  const onFailure = onFailureOption(str(p, 'on-failure'));
  const sys = new System({ ...choice, shootdown: !flag(p, 'no-shootdown'), transport });
  const computeNodes = loaded ? sys.machine.size - 1 : sys.machine.size;
  if (computeNodes < 1) throw new UsageError('a loaded job needs at least 2 nodes (compute nodes and the service node)');
  const asked = str(p, 'nodes') !== undefined ? Number(str(p, 'nodes')) : computeNodes;
  const ranks = intOption(p, 'ranks', 1, computeNodes) ?? Math.min(asked, computeNodes);
  applyFaults(p, sys, loaded);
  const traceFile = str(p, 'trace');
  if (traceFile !== undefined) {
    writableFile(traceFile, '--trace');
    sys.trace.streamTo(traceFile);
  }
  const start = process.hrtime.bigint();
  const job = loaded
    ? launch(sys, { load: jc.load as LoadMode, fanout: jc.fanout, programs: [program], map: [{ firstNid: 0, count: ranks, image: 0 }], argv: p.rest, timeoutUs: Math.round(jc.timeoutPs / 1e6), rtask: jc.rtask, onFailure })
    : sys.launchDirect(program, Array.from({ length: ranks }, (_, i) => i), p.rest, 1000, { onFailure });
  const stop = await runWatched(sys, { done: () => sys.jobDone(job), until: limit, hostLimitS, progress: (l) => out.note(l), watchdog: true });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  sys.trace.close();
  const report = buildReport(sys, job, stop, treeName(jc, transport), wall);
  if (flag(p, 'json')) out.json(report);
  else for (const l of summaryLines(report, { outputLines })) out.say(l);
  return report.job.status === 'completed' ? 0 : 1;
}
