// `margay sweep --jobs N`: runs a sweep's points in N worker threads
// (node:worker_threads), each point on its own fresh machine. Points go out
// one at a time to whichever worker is free (big and small counts mix), and
// the results are put back in point order, so the JSON is the same byte for
// byte whatever N is and whichever point finishes first. With N = 1 the
// points run here, in order, with no thread.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UsageError } from '../args.ts';
import { type PointRef, type SweepPoint, type SweepSpec, pointsOf, programOf, runPoint } from './loadsweep.ts';
import type { WorkerReply } from './worker.ts';

/** The default --jobs: one worker per core the host offers. */
export function defaultJobs(): number {
  return availableParallelism();
}

/** Called as each point finishes, with how many have finished. */
export type OnPoint = (pt: PointRef, r: SweepPoint, done: number, total: number) => void;

const WORKER = new URL('../../bin/margay-sweep-worker.js', import.meta.url);

export async function runPoints(spec: SweepSpec, jobs: number, onPoint: OnPoint): Promise<SweepPoint[]> {
  const points = pointsOf(spec);
  const results: SweepPoint[] = new Array(points.length);
  if (jobs <= 1 || points.length <= 1) {
    const program = await programOf(spec);
    points.forEach((pt, i) => {
      results[i] = runPoint(spec, program, pt);
      onPoint(pt, results[i], i + 1, points.length);
    });
    return results;
  }
  // Resolve the program here first: a bad --app is one usage error, not one per worker.
  await programOf(spec);
  const workers = Array.from({ length: Math.min(jobs, points.length) }, () => new Worker(WORKER, { workerData: { argv: spec.argv } }));
  let next = 0;
  let done = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const feed = (w: Worker) => {
        if (next < points.length) w.postMessage(points[next++].k);
      };
      for (const w of workers) {
        w.on('message', (m: WorkerReply) => {
          if ('error' in m) return reject(m.usage ? new UsageError(m.error) : new Error(`point ${m.k}: ${m.error}`));
          results[m.k - 1] = m.point;
          onPoint(points[m.k - 1], m.point, ++done, points.length);
          if (done === points.length) resolve();
          else feed(w);
        });
        w.on('error', reject);
        w.on('exit', (code) => {
          if (done < points.length) reject(new Error(`a sweep worker thread ended early (exit code ${code})`));
        });
        feed(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
