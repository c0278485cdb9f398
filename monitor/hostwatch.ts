// Runs a simulation under host-time supervision: the run goes in slices of
// events, and between slices the host gets a turn, so that a progress line
// (stderr) appears on long runs, Ctrl-C stops the run with a partial report,
// and --host-limit ends a run that takes too long (a sched_yield loop that
// would run 6 minutes to the simulated limit).
//
// A user program that loops with no yield* never returns from one step of
// its generator, so nothing in this thread can run again. For that a
// watchdog worker thread watches a shared heartbeat: the kernel tells us
// whose user code is running (System.watchUserCode); when one step of it
// has not returned for the stall time, the worker names the rank, node and
// program on stderr (synchronously: the main thread cannot help) and ends
// the process with SIGTERM. A partial report is impossible then, since the
// state lives in the stuck thread; the message says so.
//
// Host time is read only here, outside the simulation: the slices run the
// same events in the same order, so reports stay deterministic.

import { Worker } from 'node:worker_threads';
import type { RunningCode, StopReason, System } from '../system/system.ts';

export type RunStop = StopReason | { readonly kind: 'host-limit'; readonly seconds: number } | { readonly kind: 'interrupted' };

export interface WatchOptions {
  readonly done: () => boolean;
  /** Simulated time limit (ps). */
  readonly until: number;
  /** Host seconds the whole run may take; also the longest one step of user code may run. */
  readonly hostLimitS: number;
  /** Where progress lines go (stderr); null for none. */
  readonly progress: ((line: string) => void) | null;
  /** Whether to start the runaway-loop watchdog thread (the CLI does; in-process tests do not). */
  readonly watchdog: boolean;
}

/** Events per slice: small enough that the host gets a turn several times a second. */
const SLICE_EVENTS = 20_000;
/** Host seconds between progress lines. */
const PROGRESS_EVERY_S = 5;
/** The longest one step of user code may run before the watchdog ends the process. */
const MAX_STALL_S = 10;

const NAME_BYTES = 96;

// The watchdog thread (plain JS: it must not need tsx). Shared words:
// [0] heartbeat (bumped on every entry to and return from user code),
// [1] 1 while user code runs, [2] node, [3] rank, [4] pid, [5] name length,
// then the program name's UTF-8 bytes.
const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const w = new Int32Array(workerData.sab, 0, 6);
const name = new Uint8Array(workerData.sab, 24, ${NAME_BYTES});
let last = -1, since = Date.now();
setInterval(() => {
  const beat = Atomics.load(w, 0);
  if (beat !== last || Atomics.load(w, 1) === 0) { last = beat; since = Date.now(); return; }
  const stuck = (Date.now() - since) / 1000;
  if (stuck < workerData.stallS) return;
  const prog = Buffer.from(name.subarray(0, Atomics.load(w, 5))).toString('utf8');
  fs.writeSync(2, 'margay: watchdog: rank ' + w[3] + ' (program ' + prog + ', node ' + w[2] + ', pid ' + w[4] + ') has run ' + stuck.toFixed(1) +
    ' s of host time without yielding: a loop with no yield* never gives the simulator a turn. Stopped; no report (its state is in the stuck call).\\n');
  process.kill(process.pid, 'SIGTERM');
}, 250);
`;

/** Runs `sys` until done, the simulated limit, the host limit or Ctrl-C. */
export async function runWatched(sys: System, o: WatchOptions): Promise<RunStop> {
  const started = process.hrtime.bigint();
  const hostS = () => Number(process.hrtime.bigint() - started) / 1e9;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  const dog = o.watchdog ? startWatchdog(sys, Math.min(o.hostLimitS, MAX_STALL_S)) : null;
  let nextProgress = PROGRESS_EVERY_S;
  try {
    for (;;) {
      const stop = sys.run({ done: o.done, until: o.until, maxEvents: SLICE_EVENTS });
      if (stop.kind !== 'events') return stop;
      // Let signal handlers and the watchdog's messages run.
      await new Promise((r) => setImmediate(r));
      if (interrupted) return { kind: 'interrupted' };
      const t = hostS();
      if (t >= o.hostLimitS) return { kind: 'host-limit', seconds: o.hostLimitS };
      if (o.progress !== null && t >= nextProgress) {
        nextProgress = t + PROGRESS_EVERY_S;
        o.progress(`margay: ${t.toFixed(0)} s of host time, simulated ${(sys.engine.now / 1e9).toFixed(3)} ms so far (--host-limit ${o.hostLimitS} s, Ctrl-C for a partial report)`);
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    sys.watchUserCode(null);
    if (dog !== null) await dog.terminate();
  }
}

function startWatchdog(sys: System, stallS: number): Worker {
  const sab = new SharedArrayBuffer(24 + NAME_BYTES);
  const w = new Int32Array(sab, 0, 6);
  const name = new Uint8Array(sab, 24, NAME_BYTES);
  const enc = new TextEncoder();
  let shown: RunningCode | null = null;
  sys.watchUserCode((who) => {
    Atomics.add(w, 0, 1);
    if (who === null) {
      Atomics.store(w, 1, 0);
      return;
    }
    if (who !== shown) {
      shown = who;
      w[2] = who.node;
      w[3] = who.rank;
      w[4] = who.pid;
      const r = enc.encodeInto(who.name, name);
      Atomics.store(w, 5, r.written);
    }
    Atomics.store(w, 1, 1);
  });
  const dog = new Worker(WATCHDOG, { eval: true, workerData: { sab, stallS } });
  dog.unref();
  return dog;
}
