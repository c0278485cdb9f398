// busy_handler: handler invocation on a busy receiver (seed 000, with
// user-level networking beside it). Rank 1 computes for WORK_US of work while
// rank 0 sends it REQUESTS small requests, spaced by gaps that no polling
// period divides; rank 1 answers each. Modes (first argument):
//   poll:P   Active Messages over U-Net, rank 1 polls after every P us of work
//   upcall   Active Messages over U-Net, interrupt-driven: arrival preempts the work
//   ext      a Portals put answered by a kernel extension's `reply` in the receive interrupt
// (default: upcall). Rank 0 publishes round_trip_ns (mean, request to answer) and requests;
// rank 1 publishes lost_compute_ns: how much longer its work took than the
// same work with nothing arriving (measured first, before rank 0 starts),
// and handled_during_work (answers given before its work ended).

import { amInterrupts, amStart } from '../lib/am/am.ts';
import { amOverUnet } from '../lib/am/unet.ts';
import { barrier, DATA_BITS, waitFor } from '../lib/ptlapp.ts';
import { COLL_BITS, COLL_PT, channel } from '../lib/collective.ts';
import { attachExtension } from '../lib/ext.ts';
import { PTL } from '../lib/portals.ts';
import { type Env, program } from '../lib/runtime.ts';
import type { U } from '../lib/ops.ts';

export const WORK_US = 8000;
export const REQUESTS = 8;
/** Rank 0's wait before request i: 150 + 37 i us (so requests land at every phase of a poll period). */
const gapUs = (i: number) => 150 + 37 * i;

// Answer with an empty put on pt 0, DATA_BITS; consume the request.
const HANDLER = `
  mov %r1, 0
  mov %r2, ${DATA_BITS}
  mov %r3, %r10
  add %r3, -8
  mov %r4, 0
  call reply
  mov %r0, 1
  exit`;

type Mode = { kind: 'poll'; periodUs: number } | { kind: 'upcall' } | { kind: 'ext' };

function modeOf(text: string | undefined): Mode | null {
  if (text === 'upcall' || text === 'ext') return { kind: text };
  const m = /^poll:(\d+)$/.exec(text ?? '');
  if (m && Number(m[1]) >= 1 && Number(m[1]) <= WORK_US) return { kind: 'poll', periodUs: Number(m[1]) };
  return null;
}

/** Cycles per microsecond of this node's CPU, measured on a slice of work with nothing arriving. */
function* cyclesPerUs(env: Env): U<number> {
  const CAL = 1_000_000;
  const t0 = yield* env.sys.clockNs();
  yield* env.compute(CAL);
  return CAL / (((yield* env.sys.clockNs()) - t0) / 1000);
}

export default program('busy_handler', function* main(env) {
  const { sys } = env;
  const mode = modeOf(env.argv[1] ?? 'upcall');
  if (mode === null) {
    yield* sys.print(`busy_handler: the mode is poll:P (P whole us, 1 to ${WORK_US}), upcall or ext\n`, 2);
    return 2;
  }
  if ((yield* sys.getsize()) < 2) {
    yield* sys.print('busy_handler needs at least 2 ranks\n', 2);
    return 2;
  }
  const perUs = yield* cyclesPerUs(env);
  const work = Math.round(WORK_US * perUs);
  let answers = 0;
  let handled = 0;
  let rank: number;
  let ask: () => U;
  let awaitAnswer: (want: number) => U;
  let busyWork: () => U;
  let go: () => U;
  let waitGo: () => U;
  let finish: () => U = function* () {};
  if (mode.kind === 'ext') {
    const ch = yield* channel(env);
    rank = ch.app.rank;
    if (rank === 1) {
      const r = yield* attachExtension(env, { code: HANDLER, format: 'asm', entry: ch.me, payloadMax: 8, engine: 'jit' });
      if (!r.ok) {
        yield* sys.print(`busy_handler: extension refused: ${r.reason}\n`, 2);
        return 1;
      }
    }
    ask = function* () {
      yield* ch.app.P.PtlPut(ch.app.md, 0, 0, PTL.NO_ACK_REQ, { rank: 1 }, COLL_PT, COLL_BITS, 0, 0, 0);
    };
    awaitAnswer = function* () {
      yield* waitFor(ch.app, DATA_BITS);
    };
    busyWork = function* () {
      yield* env.compute(work);
    };
    go = function* () {
      yield* barrier(env, ch.app);
    };
    waitGo = go;
  } else {
    let started = false;
    let measured = false;
    const t = yield* amOverUnet(env, { interrupt: mode.kind === 'upcall' });
    rank = t.rank;
    const am = yield* amStart(env, t, [
      function* ping(tok) {
        handled++;
        yield* tok.reply(1);
      },
      function* pong() {
        answers++;
      },
      function* start() {
        started = true;
      },
      function* done() {
        measured = true;
      },
    ]);
    if (mode.kind === 'upcall') amInterrupts(env, am);
    ask = () => am.request(1, 0);
    awaitAnswer = (want) => am.waitUntil(() => answers >= want);
    busyWork =
      mode.kind === 'upcall'
        ? () => env.compute(work)
        : function* () {
            const slice = Math.round(mode.periodUs * perUs);
            for (let done = 0; done < work; done += slice) {
              yield* env.compute(Math.min(slice, work - done));
              yield* am.poll();
            }
          };
    go = () => am.request(0, 2);
    waitGo = () => am.waitUntil(() => started);
    finish = function* () {
      if (rank === 1) yield* am.waitUntil(() => handled >= REQUESTS);
      // Rank 0 stays until rank 1 has measured: its exit closes its U-Net channels, and the
      // kernel's CLOSE to node 1 would interrupt the work being measured.
      if (rank === 1) yield* am.request(0, 3);
      else yield* am.waitUntil(() => measured);
      yield* am.flush();
    };
  }
  if (rank > 1) {
    if (mode.kind === 'ext') yield* go(); // the Portals start is a barrier of the whole job
    return 0;
  }
  if (rank === 1) {
    // The same work with nothing arriving, then the work while rank 0 asks.
    const b0 = yield* sys.clockNs();
    yield* env.compute(work);
    const baseline = (yield* sys.clockNs()) - b0;
    yield* go();
    const s0 = yield* sys.clockNs();
    yield* busyWork();
    const busy = (yield* sys.clockNs()) - s0;
    const during = handled;
    yield* finish();
    yield* sys.publish('lost_compute_ns', Math.round(busy - baseline));
    if (mode.kind !== 'ext') yield* sys.publish('handled_during_work', during);
    return 0;
  }
  yield* waitGo();
  let total = 0;
  for (let i = 0; i < REQUESTS; i++) {
    yield* env.compute(Math.round(gapUs(i) * perUs));
    const t0 = yield* sys.clockNs();
    yield* ask();
    yield* awaitAnswer(i + 1);
    total += (yield* sys.clockNs()) - t0;
  }
  yield* finish();
  const mean = Math.round(total / REQUESTS);
  yield* sys.publish('round_trip_ns', mean);
  yield* sys.publish('requests', REQUESTS);
  yield* sys.print(`busy_handler (${env.argv[1] ?? 'upcall'}): ${mean} ns round trip on a busy receiver\n`);
  return 0;
});
