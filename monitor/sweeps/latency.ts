// `margay sweep latency`: the round trip against message size of the four
// message paths of issue 13 on one profile, two neighbouring nodes: raw
// U-Net, Active Messages over U-Net, Active Messages over Portals, a Portals
// put answered by a kernel extension on the receiving ME (no user process
// runs there), and a Portals put answered by a user process. Each point is twice the
// zero-byte/ sized one-way latency the app publishes (half its round trip).

import { System } from '../../system/system.ts';
import { APPS } from '../../userland/apps/index.ts';
import { MACHINE_OPTIONS, UsageError, flag, machineChoice, parse, str } from '../args.ts';
import { writableFile, writeOutput } from '../files.ts';
import type { Output } from '../output.ts';
import { svgPlot } from '../svgplot.ts';

export const LATENCY_HELP = `usage: margay sweep latency [options]   (machine options as above)

Round trip against message size for raw U-Net, Active Messages over U-Net,
Active Messages over Portals, a Portals put answered by a kernel extension
and a Portals put answered by a user process, on two neighbouring nodes.

  --sizes LIST       message sizes in bytes (default 0,64,256,512,1024,2048,4096; at most 4096)
  -o, --output FILE  write the curves as JSON to FILE (default: stdout)
  --svg FILE         also plot round trip against size as SVG
  --json             print the JSON on stdout (the default without -o)`;

const PATHS = [
  { name: 'raw U-Net', app: 'unet_pingpong', argv: [] as string[] },
  { name: 'AM over U-Net', app: 'am_pingpong', argv: ['unet'] },
  { name: 'AM over Portals', app: 'am_pingpong', argv: ['portals'] },
  { name: 'Portals put, kernel extension', app: 'ext_pingpong', argv: [] as string[] },
  { name: 'Portals put, user process', app: 'pingpong', argv: [] as string[] },
] as const;

export interface LatencySweep {
  profile: string;
  sizes: number[];
  series: { path: string; round_trip_ns: (number | null)[] }[];
}

function sizesOf(text: string): number[] {
  const out = text.split(',').map((t) => Number(t.trim()));
  if (out.some((n) => !Number.isSafeInteger(n) || n < 0 || n > 4096)) throw new UsageError(`--sizes: '${text}' must be whole numbers of bytes from 0 to 4096, comma-separated`);
  return out;
}

export function runLatencySweep(argv: string[], out: Output): number {
  const p = parse(argv, { ...MACHINE_OPTIONS, sizes: { type: 'string' }, output: { type: 'string', short: 'o' }, svg: { type: 'string' }, json: { type: 'boolean' } }, 0);
  if (str(p, 'shape') !== undefined || str(p, 'nodes') !== undefined) throw new UsageError('sweep latency runs on two neighbouring nodes: no --shape or --nodes');
  const sizes = sizesOf(str(p, 'sizes') ?? '0,64,256,512,1024,2048,4096');
  const file = str(p, 'output');
  const svg = str(p, 'svg');
  if (file !== undefined) writableFile(file, '-o');
  if (svg !== undefined) writableFile(svg, '--svg');
  p.values.nodes = '2';
  const choice = machineChoice(p);
  const result: LatencySweep = { profile: choice.profile.name, sizes, series: [] };
  for (const path of PATHS) {
    const sys = new System(choice);
    sys.trace.enabled = false;
    const job = sys.launchDirect(APPS[path.app], [0, 1], [...path.argv, ...sizes.map(String)]);
    sys.run({ done: () => sys.jobDone(job), until: 60e12 });
    const results = job.ranks[0].process?.results;
    result.series.push({ path: path.name, round_trip_ns: sizes.map((s) => (results?.has(`latency_ns_${s}`) ? 2 * results.get(`latency_ns_${s}`)! : null)) });
    if (file !== undefined) out.note(`${path.name}: done`);
  }
  if (file !== undefined) writeOutput(file, '-o', JSON.stringify(result, null, 2) + '\n');
  if (file === undefined || flag(p, 'json')) out.json(result);
  if (svg !== undefined) {
    const series = result.series.map((s) => ({ name: s.path, points: sizes.flatMap((x, i) => (s.round_trip_ns[i] === null ? [] : [{ x, y: s.round_trip_ns[i]! / 1000 }])) }));
    writeOutput(svg, '--svg', svgPlot(`round trip against message size on ${result.profile}`, 'message size (bytes)', 'round trip (us, simulated)', series, { logX: false }));
    out.note(`wrote ${svg}`);
  }
  return 0;
}
