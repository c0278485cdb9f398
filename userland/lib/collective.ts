// Plumbing shared by the collective apps that compare three ways of
// handling a message on a busy node (seed 000): a user-level handler that
// polls between slices of work, a user-level handler thread woken by the
// interrupt (paying a context switch), and a kernel extension that runs in
// the receive interrupt. Ranks form a binary tree.

import { SYS } from './abi.gen.ts';
import { PTL, Portals, type PtlEvent } from './portals.ts';
import { type PtlApp, setup } from './ptlapp.ts';
import type { Env } from './runtime.ts';
import type { U } from './ops.ts';

export type Mode = 'poll' | 'irq' | 'ext';
export const MODES: readonly Mode[] = ['poll', 'irq', 'ext'];

/** Work each rank does while the collective is in flight (10 ms at 2.4 GHz). */
export const COMPUTE_CYCLES = 24_000_000;
/** How often a polling rank looks for messages (1 ms at 2.4 GHz). */
export const POLL_CYCLES = 2_400_000;
/** The portal table index and match bits of collective messages. */
export const COLL_PT = 1;
export const COLL_BITS = 7n;

export function modeOf(env: Env): Mode {
  const m = (env.argv[1] ?? 'ext') as Mode;
  if (!MODES.includes(m)) throw new Error(`mode must be one of ${MODES.join(', ')}, got '${m}'`);
  return m;
}

export function children(rank: number, size: number): number[] {
  return [2 * rank + 1, 2 * rank + 2].filter((c) => c < size);
}

export function parent(rank: number): number {
  return (rank - 1) >> 1;
}

export interface Channel {
  readonly app: PtlApp;
  readonly eq: number;
  readonly me: number;
  readonly buf: number;
}

/** Portal table entry 1 with its own event queue and one locally managed ME for collective messages. */
export function* channel(env: Env, bytes = 4096): U<Channel> {
  const app = yield* setup(env, 4096);
  const { P, ni } = app;
  const eq = yield* P.PtlEQAlloc(ni, 256);
  yield* P.PtlPTAlloc(ni, 0, eq.eq, COLL_PT);
  const buf = yield* env.mem.alloc(bytes);
  const me = yield* P.PtlMEAppend(ni, COLL_PT, { start: buf, length: bytes, options: PTL.ME_OP_PUT | PTL.ME_EVENT_LINK_DISABLE | PTL.ME_MANAGE_LOCAL, match_bits: COLL_BITS }, PTL.PRIORITY_LIST, 0);
  if (me.rc !== PTL.OK) throw new Error(`PtlMEAppend failed with ${me.rc}`);
  return { app, eq: eq.eq, me: me.handle, buf };
}

/** Sends `words` (64-bit) to `rank` on the collective entry. */
export function* send(env: Env, ch: Channel, rank: number, words: readonly bigint[]): U {
  // A Portals instance per calling thread: its wrappers set the caller's registers (and share
  // that thread's argument buffers, so a wrapper per send costs no heap).
  const P = new Portals(env.cpu, env.mem);
  for (let i = 0; i < words.length; i++) yield* env.mem.storeU64(ch.app.sbuf + 8 * i, words[i]);
  yield* P.PtlPut(ch.app.md, 0, 8 * words.length, PTL.NO_ACK_REQ, { rank }, COLL_PT, COLL_BITS, 0, 0, 0);
}

/** Reads the words of an arrived message. */
export function* words(env: Env, ev: PtlEvent, n: number): U<bigint[]> {
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) out.push(yield* env.mem.loadU64(ev.start + 8 * i));
  return out;
}

/**
 * Does COMPUTE_CYCLES of work while `handle` deals with messages, in one of
 * the three ways. `handle` returns true once this rank has nothing more to
 * wait for; the rank then finishes its work (and in poll mode stops polling).
 */
/**
 * `handle` gets the environment of the thread running it (a handler thread
 * in irq mode): an Env belongs to one thread, since its syscall wrappers set
 * that thread's registers.
 */
export function* computeWhileHandling(env: Env, ch: Channel, mode: Mode, handle: (ev: PtlEvent, env: Env) => U<boolean>, done: () => U<boolean>): U {
  const { P } = ch.app;
  if (mode === 'poll') {
    let finished = yield* done();
    for (let spent = 0; spent < COMPUTE_CYCLES; spent += POLL_CYCLES) {
      yield* env.compute(Math.min(POLL_CYCLES, COMPUTE_CYCLES - spent));
      while (!finished) {
        const r = yield* P.PtlEQGet(ch.eq);
        if (r.rc === PTL.EQ_EMPTY) break;
        finished = yield* handle(r.event!, env);
      }
    }
    while (!finished) finished = yield* handle((yield* P.PtlEQWait(ch.eq)).event!, env);
    return;
  }
  if (mode === 'irq') {
    // A handler thread on the same core, woken by the receive interrupt, preempts the work.
    const h = yield* env.spawn(function* (t) {
      yield* t.sys.raw(SYS.lwk_sched_urgent, 1);
      const tp = new Portals(t.cpu, t.mem);
      let finished = yield* done();
      while (!finished) {
        const r = yield* tp.PtlEQWait(ch.eq);
        if (r.event === null) throw new Error(`PtlEQWait returned ${r.rc}`);
        finished = yield* handle(r.event, t);
      }
    });
    // Let the handler run first (on a one-core node) so it is waiting before the work starts.
    yield* env.sys.schedYield();
    yield* env.compute(COMPUTE_CYCLES);
    yield* env.join(h);
    return;
  }
  // ext: the kernel handles messages; the rank just works.
  yield* env.compute(COMPUTE_CYCLES);
}
