// The body of one sweep worker thread (bin/margay-sweep-worker.js loads it):
// it reads the sweep's defining flags once, then runs each point number the
// main thread sends, on a fresh machine, and sends back its result. A
// failure goes back as a message (a usage error stays one), never as a
// host exception in the worker.

import { parentPort, workerData } from 'node:worker_threads';
import type { UserProgram } from '../../kernel/abi.ts';
import { UsageError } from '../args.ts';
import { type PointRef, type SweepSpec, pointsOf, programOf, runPoint, specFromArgv } from './loadsweep.ts';

export type WorkerReply = { k: number; point: ReturnType<typeof runPoint> } | { k: number; error: string; usage: boolean };

const port = parentPort!;
let ready: { spec: SweepSpec; points: PointRef[]; program: UserProgram } | { error: unknown };
try {
  const spec = specFromArgv(workerData.argv as string[]);
  ready = { spec, points: pointsOf(spec), program: await programOf(spec) };
} catch (e) {
  ready = { error: e };
}

function fail(k: number, e: unknown): WorkerReply {
  return { k, error: e instanceof Error ? e.message : String(e), usage: e instanceof UsageError };
}

port.on('message', (k: number) => {
  if ('error' in ready) return port.postMessage(fail(k, ready.error));
  try {
    port.postMessage({ k, point: runPoint(ready.spec, ready.program, ready.points[k - 1]) } satisfies WorkerReply);
  } catch (e) {
    port.postMessage(fail(k, e));
  }
});
