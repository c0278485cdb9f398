// `margay sweep crtc --figure N`: the seed's remote-tasking figures (seed
// 002, Figures 6 to 13) measured on the Paragon profile by the mechanisms
// (kernel/rtask/ over kernel/ipc/), as JSON and SVG, with the ratios the
// seed reports measured at the largest count. docs/REMOTE-TASKING.md puts
// each beside the seed's.

import { UsageError, flag, parse, str } from '../args.ts';
import { writableFile, writeOutput } from '../files.ts';
import type { Output } from '../output.ts';
import { type Measure, type Point, type PointSpec, measure, rtask } from '../rtaskmeasure.ts';
import { svgPlot } from '../svgplot.ts';
import type { PersonalityName } from '../../kernel/ipc/personality.ts';
import type { RtaskChoice } from '../../userland/lib/rtask.ts';

export const HELP = `usage: margay sweep crtc --figure N [options]

Reproduces one of the remote-tasking figures of seed 002 (Milojicic et al.,
HICSS 1996) on the Paragon profile: every point is a job launched with
--load crtc and timed in simulated time (docs/REMOTE-TASKING.md).

  --figure N         6a 6b 7 8 9 10 11 12 13:
                       6a/6b  ntc flat, crtc flat, crtc tree (paging down the tree,
                              and with every paging path at the source) vs nodes
                       7      crtc tree vs nodes, every count, NORMA and DIPC
                       8      crtc tree, NMS on vs off (DIPC)
                       9      creation vs VM areas at 50 nodes, NORMA and DIPC
                       10     page in 128 pages vs paging-tree depth 0-6
                       11     300 pages on every node: flat vs hierarchical paging
                       12     flat, flat multithreaded, tree (DIPC, 12 VM areas)
                       13     termination, flat vs hierarchical paging (DIPC)
  --counts LIST      node counts, e.g. 1-8,16 (default per figure, up to 50)
  --vm-areas N       VM areas of the template (default 12, the seed's Figure 12)
  --profile P        machine profile (default paragon)
  -o, --output FILE  write the JSON to FILE (default: stdout)
  --svg FILE         plot the figure as SVG
  --json             print the JSON on stdout (the default without -o)
`;

/** The seed's Paragon: 56 nodes, as a 7x8 mesh (the last node is the service node, the source). */
const PARAGON_56: [number, number] = [7, 8];
/** Figure 10 needs a binary tree of depth 7: 127 ranks and the source. */
const DEPTH_MESH: [number, number] = [8, 16];

const FIGURES = ['6a', '6b', '7', '8', '9', '10', '11', '12', '13'] as const;
type Figure = (typeof FIGURES)[number];

interface SeriesSpec {
  readonly name: string;
  readonly transport: PersonalityName;
  readonly rtask: Partial<RtaskChoice>;
}

interface FigureSpec {
  readonly title: string;
  readonly x: string;
  readonly y: string;
  readonly measure: Measure;
  readonly series: readonly SeriesSpec[];
  readonly xs: readonly number[];
  /** The job for x in a series. */
  readonly point: (x: number, s: SeriesSpec, vmAreas: number) => Omit<PointSpec, 'profile'>;
}

const NTC_FLAT = { algorithm: 'ntc', creation: 'flat', paging: 'flat' } as const;
const CRTC_FLAT = { algorithm: 'crtc', creation: 'flat', paging: 'flat' } as const;
const CRTC_TREE = { algorithm: 'crtc', creation: 'tree', paging: 'tree' } as const;

const byNodes = (m: Measure) => (x: number, s: SeriesSpec, vmAreas: number) => ({ mesh: PARAGON_56, ranks: x, transport: s.transport, rtask: rtask({ vmAreas, ...s.rtask }), measure: m });

const NODE_COUNTS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 40, 50];

function figure(f: Figure, counts: readonly number[] | null): FigureSpec {
  const nodes = counts ?? NODE_COUNTS;
  const three = (t: PersonalityName): SeriesSpec[] => [
    { name: `ntc, flat, ${t}`, transport: t, rtask: NTC_FLAT },
    { name: `crtc, flat, ${t}`, transport: t, rtask: CRTC_FLAT },
    { name: `crtc, tree, ${t}`, transport: t, rtask: CRTC_TREE },
  ];
  // The tree of creation with every paging path still set up at the source (the seed's Figure 9 caption).
  const sourcePaging = (t: PersonalityName): SeriesSpec => ({ name: `crtc, src paging, ${t}`, transport: t, rtask: { ...CRTC_TREE, paging: 'flat' } });
  const create = { x: 'remote nodes/tasks', y: 'creation time (s, simulated)', measure: 'create' as const, point: byNodes('create') };
  switch (f) {
    case '6a':
      return { ...create, title: 'Figure 6a: remote task creation over NORMA IPC', series: [...three('norma'), sourcePaging('norma')], xs: nodes };
    case '6b':
      return { ...create, title: 'Figure 6b: remote task creation over DIPC', series: [...three('dipc'), sourcePaging('dipc')], xs: nodes };
    case '7':
      return { ...create, title: 'Figure 7: crtc hierarchical, NORMA IPC vs DIPC', series: [{ name: 'crtc, tree, norma', transport: 'norma', rtask: CRTC_TREE }, { name: 'crtc, tree, dipc', transport: 'dipc', rtask: CRTC_TREE }], xs: counts ?? Array.from({ length: 50 }, (_, i) => i + 1) };
    case '8':
      return { ...create, title: 'Figure 8: No More Senders (crtc hierarchical, DIPC)', series: [{ name: 'NMS on', transport: 'dipc', rtask: { ...CRTC_TREE, nms: true } }, { name: 'NMS off', transport: 'dipc', rtask: CRTC_TREE }], xs: nodes };
    case '9':
      return {
        title: 'Figure 9: creation of 50 tasks vs VM areas',
        x: 'VM areas in the address space',
        y: 'creation time (s, simulated)',
        measure: 'create',
        series: [...three('norma'), ...three('dipc')],
        xs: counts ?? [3, 6, 12, 20, 30, 40, 50, 60],
        point: (x, s) => ({ mesh: PARAGON_56, ranks: 50, transport: s.transport, rtask: rtask({ ...s.rtask, vmAreas: x }), measure: 'create' }),
      };
    case '10':
      return {
        title: 'Figure 10: page in 128 pages vs paging-tree depth (one node)',
        x: 'depth in the hierarchical paging tree (nodes between the task and the source)',
        y: 'page-in time (s, simulated)',
        measure: 'pagein',
        series: [{ name: 'tree, norma', transport: 'norma', rtask: CRTC_TREE }, { name: 'tree, dipc', transport: 'dipc', rtask: CRTC_TREE }],
        xs: counts ?? [0, 1, 2, 3, 4, 5, 6],
        // The first rank at depth d + 1 below the source has d nodes between it and the source.
        point: (d, s, vmAreas) => ({ mesh: DEPTH_MESH, ranks: 2 ** (d + 1) - 1, transport: s.transport, rtask: rtask({ vmAreas, ...s.rtask }), measure: 'pagein', argv: ['pages=128', `only=${2 ** (d + 1) - 2}`] }),
      };
    case '11':
      return {
        title: 'Figure 11: 300 pages paged in on every node at once',
        x: 'remote nodes/tasks',
        y: 'page-in time of the slowest node (s, simulated)',
        measure: 'pagein',
        series: [
          { name: 'flat, norma', transport: 'norma', rtask: { ...CRTC_TREE, paging: 'flat' } },
          { name: 'tree, norma', transport: 'norma', rtask: CRTC_TREE },
          { name: 'flat, dipc', transport: 'dipc', rtask: { ...CRTC_TREE, paging: 'flat' } },
          { name: 'tree, dipc', transport: 'dipc', rtask: CRTC_TREE },
        ],
        xs: nodes,
        point: (x, s, vmAreas) => ({ ...byNodes('pagein')(x, s, vmAreas), argv: ['pages=300'] }),
      };
    case '12':
      return {
        ...create,
        title: 'Figure 12: flat, flat multithreaded and hierarchical creation (DIPC, crtc)',
        series: [
          { name: 'flat', transport: 'dipc', rtask: CRTC_FLAT },
          { name: 'flat, multithreaded', transport: 'dipc', rtask: { ...CRTC_FLAT, creation: 'flat-mt' } },
          { name: 'tree', transport: 'dipc', rtask: CRTC_TREE },
        ],
        xs: nodes,
      };
    case '13':
      return {
        title: 'Figure 13: termination, flat vs hierarchical (DIPC, crtc)',
        x: 'tasks terminated on different nodes',
        y: 'termination time (s, simulated)',
        measure: 'terminate',
        series: [
          { name: 'flat', transport: 'dipc', rtask: CRTC_FLAT },
          { name: 'tree', transport: 'dipc', rtask: CRTC_TREE },
        ],
        xs: nodes,
        point: byNodes('terminate'),
      };
  }
}

/** The seed's ratios at the largest count, measured (docs/REMOTE-TASKING.md's closing note). */
function ratios(series: { name: string; points: Point[] }[]): Record<string, number | null> {
  const last = (name: string) => {
    const s = series.find((x) => x.name === name);
    const p = s?.points[s.points.length - 1];
    return p?.ns ?? null;
  };
  const out: Record<string, number | null> = {};
  for (const a of series)
    for (const b of series) {
      if (a === b) continue;
      const na = last(a.name);
      const nb = last(b.name);
      if (na !== null && nb !== null && na > nb) out[`${a.name} / ${b.name}`] = +(na / nb).toFixed(2);
    }
  return out;
}

export async function runCrtcSweep(argv: string[], out: Output): Promise<number> {
  const p = parse(argv, { figure: { type: 'string' }, counts: { type: 'string' }, 'vm-areas': { type: 'string' }, profile: { type: 'string' }, output: { type: 'string', short: 'o' }, svg: { type: 'string' }, json: { type: 'boolean' } }, 0);
  const f = str(p, 'figure');
  if (f === undefined || !(FIGURES as readonly string[]).includes(f)) throw new UsageError(`--figure must be one of ${FIGURES.join(', ')}${f === undefined ? '' : `, got '${f}'`}`);
  const countsText = str(p, 'counts');
  let counts: number[] | null = null;
  if (countsText !== undefined) {
    // Counts and ranges, as margay sweep takes them: 1-8,16,32.
    counts = [];
    for (const part of countsText.split(',').map((c) => c.trim())) {
      const m = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part);
      if (m === null || Number(m[2] ?? m[1]) < Number(m[1])) throw new UsageError(`--counts: '${part}' is not a count or a range (low-high)`);
      for (let x = Number(m[1]); x <= Number(m[2] ?? m[1]); x++) counts.push(x);
    }
  }
  const areasText = str(p, 'vm-areas') ?? '12';
  const vmAreas = Number(areasText);
  if (!/^\d+$/.test(areasText) || vmAreas < 3 || vmAreas > 1024) throw new UsageError(`--vm-areas must be 3 to 1024, got '${areasText}'`);
  const profile = str(p, 'profile') ?? 'paragon';
  const spec = figure(f as Figure, counts);
  // Figure 10 counts depths, 9 VM areas, the others tasks on the 56-node machine.
  const [lo, hi] = f === '10' ? [0, 6] : f === '9' ? [3, 1024] : [1, PARAGON_56[0] * PARAGON_56[1] - 1];
  for (const x of spec.xs) if (x < lo || x > hi) throw new UsageError(`--counts: ${x} is out of range for figure ${f} (${lo} to ${hi})`);
  const file = str(p, 'output');
  const svg = str(p, 'svg');
  if (file !== undefined) writableFile(file, '-o');
  if (svg !== undefined) writableFile(svg, '--svg');
  const series: { name: string; points: Point[] }[] = [];
  for (const s of spec.series) {
    const points: Point[] = [];
    for (const x of spec.xs) {
      const r = measure({ profile, ...spec.point(x, s, vmAreas) });
      points.push({ x, ns: r.ns, status: r.status });
    }
    out.note(`${s.name}: ${points.map((q) => `${q.x}:${q.ns === null ? 'failed' : (q.ns / 1e9).toFixed(3)}`).join(' ')}`);
    series.push({ name: s.name, points });
  }
  const result = { figure: f, title: spec.title, profile, vm_areas: vmAreas, x: spec.x, y: spec.y, series, ratios_at_largest: ratios(series) };
  if (file !== undefined) writeOutput(file, '-o', JSON.stringify(result, null, 2) + '\n');
  if (file === undefined || flag(p, 'json')) out.json(result);
  if (svg !== undefined) {
    const plot = series.map((s) => ({ name: s.name, points: s.points.filter((q) => q.ns !== null).map((q) => ({ x: q.x, y: q.ns! / 1e9 })) }));
    writeOutput(svg, '--svg', svgPlot(`${spec.title} (${profile})`, spec.x, spec.y, plot, { logX: false }));
    out.note(`wrote ${svg}`);
  }
  return 0;
}
