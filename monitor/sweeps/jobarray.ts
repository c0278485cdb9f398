// A sweep run as a job array, past one host: `--plan` writes one shell
// command line per point (line K runs point K, for Slurm's --array or GNU
// parallel), `--point K` runs one point and writes DIR/point-K.json, and
// `--merge DIR` checks the folder holds exactly the points of one sweep and
// joins them into the curve a local sweep writes. A point file records the
// sweep's defining flags, so a point of another sweep, a duplicate or a
// missing point is named, not silently merged.

import { readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../args.ts';
import { readBounded, writeOutput } from '../files.ts';
import { type PointRef, type SweepPoint, type SweepResult, type SweepSpec, assemble, describePoint, pointsOf, specFromArgv } from './loadsweep.ts';
import { formatFanout } from '../../userland/lib/jobblock.ts';

/** The format version a point file carries. */
const POINT_FORMAT = 1;
/** The largest point file read (one is a few hundred bytes). */
const MAX_POINT_BYTES = 64 * 1024;

export interface PointFile {
  margay_sweep_point: number;
  /** The sweep's defining flags, in SweepSpec.argv's fixed order. */
  sweep: string[];
  point: number;
  of: number;
  app: string;
  load: string;
  profile: string;
  image_bytes: number;
  fanout: string;
  nodes: number;
  result: SweepPoint;
}

/** Throws unless `dir` names an existing folder (`flag` names the option in the message). */
export function checkFolder(dir: string, flag: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new UsageError(`${flag}: no such folder ${dir}`);
  }
  if (!isDir) throw new UsageError(`${flag}: ${dir} is not a folder`);
}

/** A word as the shell reads it back unchanged. */
function shellWord(w: string): string {
  return /^[\w./:=,@%+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

const MARGAY = fileURLToPath(new URL('../../bin/margay.js', import.meta.url));

/**
 * The plan: line K is the command that runs point K. It changes to this
 * folder first (relative --app, --config and DIR paths mean what they meant
 * here) and names this node and this checkout by absolute path, so it runs
 * unchanged on any host that shares the file system.
 */
export function planLines(spec: SweepSpec, dir: string, cwd: string): string[] {
  const head = `cd ${shellWord(cwd)} && ${shellWord(process.execPath)} ${shellWord(MARGAY)} sweep ${spec.argv.map(shellWord).join(' ')}`;
  return pointsOf(spec).map((pt) => `${head} --point ${pt.k} --out ${shellWord(dir)}`);
}

export function pointFileName(k: number, of: number): string {
  return `point-${String(k).padStart(String(of).length, '0')}.json`;
}

/** The point `--point K` names, or a usage error saying which numbers the sweep has. */
export function pointRef(spec: SweepSpec, text: string): PointRef {
  const points = pointsOf(spec);
  const k = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(k >= 1 && k <= points.length)) throw new UsageError(`--point: '${text}' is not a point of this sweep (it has points 1 to ${points.length})`);
  return points[k - 1];
}

/** Writes the point's file whole or not at all (a job killed mid-write leaves no half file for --merge). */
export function writePointFile(dir: string, spec: SweepSpec, pt: PointRef, app: string, profile: string, result: SweepPoint): string {
  const of = pointsOf(spec).length;
  const doc: PointFile = { margay_sweep_point: POINT_FORMAT, sweep: [...spec.argv], point: pt.k, of, app, load: spec.load, profile, image_bytes: spec.pad, fanout: formatFanout(pt.fanout), nodes: pt.nodes, result };
  const file = join(dir, pointFileName(pt.k, of));
  const part = join(dir, `.${pointFileName(pt.k, of)}.part`);
  writeOutput(part, '--out', JSON.stringify(doc, null, 2) + '\n');
  try {
    renameSync(part, file);
  } catch (e) {
    throw new UsageError(`--out: cannot write ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  return file;
}

const isInt = (x: unknown): x is number => Number.isSafeInteger(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isStr = (x: unknown): x is string => typeof x === 'string';

function isPointFile(x: unknown): x is PointFile {
  const d = x as PointFile;
  const r = d?.result;
  return (
    typeof d === 'object' &&
    d !== null &&
    d.margay_sweep_point === POINT_FORMAT &&
    Array.isArray(d.sweep) &&
    d.sweep.every(isStr) &&
    isInt(d.point) &&
    isInt(d.of) &&
    [d.app, d.load, d.profile, d.fanout].every(isStr) &&
    isInt(d.image_bytes) &&
    isInt(d.nodes) &&
    typeof r === 'object' &&
    r !== null &&
    isInt(r.nodes) &&
    (r.load_ns === null || isNum(r.load_ns)) &&
    isNum(r.total_ns) &&
    isStr(r.status)
  );
}

function readPoint(dir: string, name: string): PointFile {
  const path = join(dir, name);
  const text = new TextDecoder().decode(readBounded(path, MAX_POINT_BYTES, path));
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = undefined;
  }
  if (!isPointFile(doc)) throw new UsageError(`--merge: ${path} is not a sweep point's JSON (margay sweep --point K --out ${dir} writes them)`);
  return doc;
}

/** What two point files' sweeps differ in, as a few words. */
function difference(a: PointFile, b: PointFile): string {
  const fa = a.sweep.join(' ');
  const fb = b.sweep.join(' ');
  if (fa !== fb) {
    for (let i = 0; i < Math.max(a.sweep.length, b.sweep.length); i += 2) {
      if (a.sweep[i] !== b.sweep[i] || a.sweep[i + 1] !== b.sweep[i + 1]) return `${b.sweep[i] ?? 'no flag'} ${b.sweep[i + 1] ?? ''} against ${a.sweep[i] ?? 'no flag'} ${a.sweep[i + 1] ?? ''}`.replace(/ +/g, ' ').trim();
    }
  }
  for (const key of ['app', 'load', 'profile', 'image_bytes', 'of'] as const) if (a[key] !== b[key]) return `${key} ${b[key]} against ${a[key]}`;
  return 'the same flags';
}

/** Reads DIR's *.json point files (other files, e.g. a job's logs, are left alone) and joins them. */
export function mergePoints(dir: string): { spec: SweepSpec; result: SweepResult } {
  checkFolder(dir, '--merge');
  const names = readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort();
  if (names.length === 0) throw new UsageError(`--merge: ${dir} holds no point files (*.json)`);
  const files = names.map((n) => ({ name: join(dir, n), doc: readPoint(dir, n) }));
  const first = files[0];
  for (const f of files) {
    if (difference(first.doc, f.doc) !== 'the same flags') throw new UsageError(`--merge: ${f.name} is a point of another sweep than ${first.name} (${difference(first.doc, f.doc)})`);
  }
  let spec: SweepSpec;
  try {
    spec = specFromArgv(first.doc.sweep);
  } catch (e) {
    throw new UsageError(`--merge: ${first.name} records sweep flags that do not run: ${(e as Error).message}`);
  }
  const points = pointsOf(spec);
  const held = new Map<number, string>();
  for (const { name, doc } of files) {
    const pt = points[doc.point - 1];
    if (doc.of !== points.length || pt === undefined || formatFanout(pt.fanout) !== doc.fanout || pt.nodes !== doc.nodes || doc.result.nodes !== doc.nodes) {
      throw new UsageError(`--merge: ${name} does not hold point ${doc.point} of its sweep (${doc.fanout} ${doc.nodes} nodes)`);
    }
    const other = held.get(doc.point);
    if (other !== undefined) throw new UsageError(`--merge: ${other} and ${name} both hold point ${doc.point} (${describePoint(pt, doc.result)})`);
    held.set(doc.point, name);
  }
  const missing = points.filter((pt) => !held.has(pt.k)).map((pt) => pt.k);
  if (missing.length > 0) {
    const shown = missing.slice(0, 8).join(', ') + (missing.length > 8 ? `, ... (${missing.length} in all)` : '');
    throw new UsageError(`--merge: ${dir} lacks point${missing.length > 1 ? 's' : ''} ${shown} of ${points.length} (run them with --point K)`);
  }
  const byPoint = [...files].sort((a, b) => a.doc.point - b.doc.point);
  return { spec, result: assemble(spec, first.doc.app, first.doc.profile, byPoint.map(({ doc: { result: r } }) => ({ nodes: r.nodes, load_ns: r.load_ns, total_ns: r.total_ns, status: r.status }))) };
}
