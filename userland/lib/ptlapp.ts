// Set-up shared by Portals apps: a logical matching NI mapped over the job,
// an event queue, portal table entry 0 with one persistent receive ME, a
// send MD, and a start-up handshake so that nobody sends before its peer's
// ME is in place (sends are retried until acknowledged).

import type { Env } from './runtime.ts';
import { PTL, Portals, type PtlEvent } from './portals.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './sys.ts';

export interface PtlApp {
  readonly P: Portals;
  readonly ni: number;
  readonly eq: number;
  readonly rank: number;
  readonly size: number;
  /** This process's uid: the only initiator its entries accept (not PTL_UID_ANY, which lets any user's process put into them). */
  readonly uid: number;
  /** Receive buffer (the ME) and send buffer (the MD), `bytes` each. */
  readonly rbuf: number;
  readonly sbuf: number;
  /** Their length, and the control page's address (teardown unmaps them). */
  readonly bufBytes: number;
  readonly ctl: number;
  readonly md: number;
  /** MD with an event queue, for acknowledged control messages. */
  readonly ctlMd: number;
  readonly ctlEq: number;
  /** Events taken from the EQ while waiting for other match bits, oldest first. */
  readonly backlog: PtlEvent[];
  /** Where each rank runs (rank i at map[i]): tells who has not reported. */
  readonly map: readonly { nid: number; pid: number }[];
  /** Gathers and barriers so far: control messages carry it, so a late duplicate of an earlier one is not counted in this one. */
  epoch: number;
}

export const DATA_BITS = 1n;
export const CTL_BITS = 2n;
export const GO_BITS = 3n;

export function* setup(env: Env, bytes: number) {
  const { sys } = env;
  const P = new Portals(env.cpu, env.mem);
  const rank = yield* sys.getrank();
  const size = yield* sys.getsize();
  const check = (what: string, rc: number) => {
    if (rc !== PTL.OK) throw new Error(`${what} failed with PTL code ${rc}`);
  };
  check('PtlInit', yield* P.PtlInit());
  const n = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_MATCHING | PTL.NI_LOGICAL, PTL.PID_ANY, null);
  check('PtlNIInit', n.rc);
  const jobMap = yield* sys.jobMap();
  check('PtlSetMap', yield* P.PtlSetMap(n.ni, jobMap));
  // Room for one control event from every rank and then some: rank 0 of a
  // gather takes size-1 of them at once, and a full EQ drops events (a
  // 256-entry EQ hung every job of more than 257 ranks).
  const eq = yield* P.PtlEQAlloc(n.ni, Math.max(256, 2 * size + 64));
  check('PtlEQAlloc', eq.rc);
  check('PtlPTAlloc', (yield* P.PtlPTAlloc(n.ni, 0, eq.eq, 0)).rc);
  const map = (len: number) => sys.mmap(0, Math.max(len, 4096), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  const rbuf = yield* map(bytes);
  const sbuf = yield* map(bytes);
  const ctl = yield* map(4096);
  // Entries accept this uid only: a job's ranks share their launcher's uid, and PTL_UID_ANY would let
  // any user's process put into the job's buffers (docs/SECURITY.md).
  const who = yield* P.PtlGetUid(n.ni);
  check('PtlGetUid', who.rc);
  const uid = who.uid;
  const opts = PTL.ME_OP_PUT | PTL.ME_EVENT_LINK_DISABLE;
  // The data entry also answers GETs, so a peer can read a rank's receive buffer.
  check('PtlMEAppend', (yield* P.PtlMEAppend(n.ni, 0, { start: rbuf, length: Math.max(bytes, 4096), options: opts | PTL.ME_OP_GET, match_bits: DATA_BITS, uid }, PTL.PRIORITY_LIST, 0)).rc);
  check('PtlMEAppend', (yield* P.PtlMEAppend(n.ni, 0, { start: ctl, length: 1024, options: opts, match_bits: CTL_BITS, uid }, PTL.PRIORITY_LIST, 0)).rc);
  check('PtlMEAppend', (yield* P.PtlMEAppend(n.ni, 0, { start: ctl + 1024, length: 1024, options: opts, match_bits: GO_BITS, uid }, PTL.PRIORITY_LIST, 0)).rc);
  const md = yield* P.PtlMDBind(n.ni, { start: sbuf, length: Math.max(bytes, 4096), options: PTL.MD_EVENT_SEND_DISABLE });
  check('PtlMDBind', md.rc);
  const ctlEq = yield* P.PtlEQAlloc(n.ni, 64);
  const ctlMd = yield* P.PtlMDBind(n.ni, { start: ctl + 2048, length: 2048, eq_handle: ctlEq.eq, options: PTL.MD_EVENT_SEND_DISABLE });
  check('PtlMDBind', ctlMd.rc);
  return { P, ni: n.ni, eq: eq.eq, rank, size, uid, rbuf, sbuf, bufBytes: Math.max(bytes, 4096), ctl, md: md.md, ctlMd: ctlMd.md, ctlEq: ctlEq.eq, backlog: [], epoch: 0, map: jobMap } satisfies PtlApp;
}

/** A control message's peer has ended (its kernel answered PTL_NI_TARGET_ENDED): it will never answer. */
export class PeerEnded extends Error {
  constructor(
    from: number,
    readonly rank: number,
  ) {
    super(`rank ${from}: rank ${rank} has ended (its process is gone)`);
  }
}

/** How long one control put waits for its acknowledgment before it is sent again. */
export const CONTROL_ACK_WAIT_MS = 50;
/**
 * Simulated time after which a rank stops waiting for a peer that never
 * answers: half `margay run`'s default time limit (10 s), so that a rank that
 * returned early or never came is named in an error before the run's own
 * limit stops it with no reason (AM over U-Net's set-up waits as long).
 */
export const CONTROL_GIVE_UP_NS = 5e9;

/** The name of an ni_fail_type, for messages. */
function failName(f: number): string {
  const e = Object.entries(PTL).find(([k, v]) => k.startsWith('NI_') && v === f && !['NI_MATCHING', 'NI_NO_MATCHING', 'NI_LOGICAL', 'NI_PHYSICAL'].includes(k));
  return e ? `PTL_${e[0]}` : `ni_fail ${f}`;
}

/**
 * Sends a control message to `rank`, retrying until it is acknowledged
 * without failure. A peer still loading has no Portals interface yet, and
 * its kernel answers PTL_NI_TARGET_INVALID: the wait between tries then
 * doubles from 10 us to 1.28 ms (with a fixed short retry, a hundred ranks
 * knocking on a rank that is not ready yet keep its core in receive
 * interrupts and it never gets ready). An acknowledgment that does not come
 * at all (a lost message) is waited for CONTROL_ACK_WAIT_MS, then the put is
 * sent again; each try carries its number in user_ptr so that a late ack of
 * an earlier try is not taken for this one. After CONTROL_GIVE_UP_NS the
 * rank gives up with an error naming the peer, rather than hang; a peer
 * whose process has ended (PTL_NI_TARGET_ENDED) is given up at once
 * (PeerEnded).
 */
export function* sendControl(env: Env, app: PtlApp, rank: number, bits = CTL_BITS, giveUpNs = CONTROL_GIVE_UP_NS, epoch = app.epoch) {
  const begin = yield* env.sys.clockNs();
  let last = 'no acknowledgment';
  for (let attempt = 1, wait = 10_000; ; attempt++) {
    // hdr_data carries the epoch: the receiver tells this gather's messages from a late retry of an earlier one.
    const rc = yield* app.P.PtlPut(app.ctlMd, 0, 8, PTL.ACK_REQ, { rank }, 0, bits, 0, attempt, BigInt(epoch));
    if (rc !== PTL.OK) throw new Error(`rank ${app.rank}: control put to rank ${rank} failed with PTL code ${rc}`);
    const fail = yield* ackOf(app, attempt);
    if (fail === PTL.NI_OK) return;
    if (fail === PTL.NI_TARGET_ENDED) throw new PeerEnded(app.rank, rank);
    if (fail !== null) {
      last = failName(fail);
      yield* env.sys.nanosleep(wait);
      wait = Math.min(2 * wait, 1_280_000);
    }
    if ((yield* env.sys.clockNs()) - begin >= giveUpNs) {
      throw new Error(`rank ${app.rank}: rank ${rank} did not acknowledge a control message in ${giveUpNs / 1e6} ms of simulated time (${attempt} tries, last answer: ${last})`);
    }
  }
}

/** The ni_fail_type of the ack of try `attempt`, or null when none came in CONTROL_ACK_WAIT_MS. */
function* ackOf(app: PtlApp, attempt: number) {
  for (;;) {
    const r = yield* app.P.PtlEQPoll([app.ctlEq], CONTROL_ACK_WAIT_MS);
    if (r.rc === PTL.EQ_EMPTY) return null;
    if (r.event === null) throw new Error(`PtlEQPoll failed with PTL code ${r.rc}`);
    // This try's ack, or its failed SEND (the network could not deliver it);
    // anything else (a late ack of an earlier try) is stale.
    const mine = r.event.user_ptr === BigInt(attempt);
    if (mine && (r.event.type === PTL.EVENT_ACK || r.event.ni_fail_type !== PTL.NI_OK)) return r.event.ni_fail_type;
  }
}

/**
 * Waits for the next event on the main EQ whose match bits are `bits`.
 * Events for other bits are kept for later waits, not dropped: a peer's
 * data may well arrive while this rank still waits in a barrier.
 */
export function* waitFor(app: PtlApp, bits: bigint) {
  const kept = app.backlog.findIndex((e) => e.match_bits === bits);
  if (kept >= 0) return app.backlog.splice(kept, 1)[0];
  for (;;) {
    const r = yield* app.P.PtlEQWait(app.eq);
    if (r.rc !== PTL.OK && r.rc !== PTL.EQ_DROPPED) throw new Error(`PtlEQWait failed with ${r.rc}`);
    const ev = r.event as PtlEvent;
    if (ev.match_bits === bits) return ev;
    app.backlog.push(ev);
  }
}

/**
 * Like waitFor, but gives up at simulated time `deadlineNs` and returns
 * null. Polls the EQ with a timeout up to the deadline instead of waiting
 * on it without end.
 */
export function* waitUntil(env: Env, app: PtlApp, bits: bigint, deadlineNs: number) {
  const kept = app.backlog.findIndex((e) => e.match_bits === bits);
  if (kept >= 0) return app.backlog.splice(kept, 1)[0];
  for (;;) {
    const now = yield* env.sys.clockNs();
    if (now >= deadlineNs) return null;
    // PtlEQPoll takes whole milliseconds (a 32-bit count): wait in slices up to the deadline.
    const r = yield* app.P.PtlEQPoll([app.eq], Math.min(2 ** 31 - 1, Math.max(1, Math.ceil((deadlineNs - now) / 1e6))));
    if (r.rc === PTL.EQ_EMPTY) continue;
    if (r.rc !== PTL.OK && r.rc !== PTL.EQ_DROPPED) throw new Error(`PtlEQPoll failed with ${r.rc}`);
    const ev = r.event as PtlEvent;
    if (ev.match_bits === bits) return ev;
    app.backlog.push(ev);
  }
}

/**
 * Rank 0 waits until every other rank has sent it one control message of the
 * current epoch (each sender counted once, however often it retried: a
 * control put sent again after a lost ack may arrive twice); the others send
 * theirs. Then the epoch moves on. Each side waits at most `limitNs` of
 * simulated time, then fails naming the rank(s) it waited for. Ranks that
 * only need rank 0 to know they are ready (ring, pingpong) use this;
 * `barrier` adds the release.
 */
export function* gather(env: Env, app: PtlApp, limitNs = CONTROL_GIVE_UP_NS, what = 'the gather') {
  const epoch = BigInt(app.epoch);
  if (app.rank === 0) {
    const deadline = (yield* env.sys.clockNs()) + limitNs;
    const reported = new Set<number>();
    while (reported.size < app.size - 1) {
      const ev = yield* waitUntil(env, app, CTL_BITS, deadline);
      if (ev === null) {
        const missing = app.map.map((_, r) => r).filter((r) => r !== 0 && !reported.has(r));
        throw new Error(`rank 0: ${missing.length === 1 ? 'rank' : 'ranks'} ${missing.join(', ')} did not report to ${what} ${within(limitNs)}`);
      }
      // The kernel names the sender by its rank in this job's map (PTL_RANK_ANY from outside the job, even of the same uid).
      if (ev.hdr_data === epoch && ev.initiator_nid > 0 && ev.initiator_nid < app.size) reported.add(ev.initiator_nid);
    }
  } else yield* sendControl(env, app, 0, CTL_BITS, limitNs);
  app.epoch++;
}

const within = (limitNs: number) => `in ${limitNs / 1e6} ms of simulated time`;

/**
 * Every rank reports to rank 0 (gather); rank 0 then releases them all.
 * Returns when released. Each side waits at most `limitNs` of simulated time
 * for the other, then fails with an error naming the rank(s) it waited for,
 * rather than hang on a rank that died or never came.
 */
export function* barrier(env: Env, app: PtlApp, limitNs = CONTROL_GIVE_UP_NS) {
  const epoch = app.epoch;
  yield* gather(env, app, limitNs, 'the barrier');
  if (app.rank === 0) {
    for (let i = 1; i < app.size; i++) yield* sendControl(env, app, i, GO_BITS, limitNs, epoch);
  } else {
    const deadline = (yield* env.sys.clockNs()) + limitNs;
    for (;;) {
      const ev = yield* waitUntil(env, app, GO_BITS, deadline);
      if (ev === null) throw new Error(`rank ${app.rank}: rank 0 did not release the barrier ${within(limitNs)}`);
      // The release of this barrier, from rank 0: a late duplicate of an earlier release is not it.
      if (ev.hdr_data === BigInt(epoch) && ev.initiator_nid === 0) break;
    }
  }
}

/**
 * Undoes setup: the interface with every object on it (PtlNIFini drops its
 * portal entries, match entries, MDs and event queues, so no put lands here
 * any more), then the buffers. Call it when no thread uses the interface.
 */
export function* teardown(env: Env, app: PtlApp) {
  const check = (what: string, rc: number) => {
    if (rc !== PTL.OK) throw new Error(`${what} failed with PTL code ${rc}`);
  };
  check('PtlNIFini', yield* app.P.PtlNIFini(app.ni));
  check('PtlFini', yield* app.P.PtlFini());
  for (const [va, len] of [[app.rbuf, app.bufBytes], [app.sbuf, app.bufBytes], [app.ctl, 4096]]) {
    const rc = yield* env.sys.munmap(va, len);
    if (rc < 0) throw new Error(`munmap of a Portals buffer failed with errno ${-rc}`);
  }
}
