// The user-level half of the job load (the seed's steps 6-15), shared by the
// init program (two-phase) and crt0 (one-phase, init linked into the
// executable). A rank fetches the executables its subtree needs from its
// parent with Portals GETs, asks its children's kernels to load them with
// job-load messages, collects the children's ACK/NACK and then their
// subtree status, reports to its parent, waits for GO and passes it on.

import { ERRNO, KMSG, LAYOUT } from './abi.gen.ts';
import { childrenOf, depthOf, parentOf, subtreeOf, treeDepth } from './fanout.ts';
import { type JobInfo, placeOf } from './jobblock.ts';
import { PTL, Portals, type PtlEvent, type PtlProcess } from './portals.ts';
import type { U } from './ops.ts';
import type { Env } from './runtime.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './sys.ts';

/** The portal table entry the load protocol uses, and its match bits. */
export const LOAD_PT = 1;
export const IMAGE_BITS = 0x10n;
export const STATUS_BITS = 0x11n;
export const GO_BITS = 0x12n;
/** One status message: ok, failed, listed count, then up to MAX_LISTED {rank, reason}. */
export const STATUS_BYTES = 256;
const MAX_LISTED = 3;
const REASON_BYTES = 72;
const KMSG_BUF = KMSG.RECORD_WORDS * 8 + 1024;
const ETIMEDOUT = ERRNO.ETIMEDOUT;
const EAGAIN = ERRNO.EAGAIN;

export interface Failure {
  readonly rank: number;
  readonly reason: string;
}

/** A subtree's load status. */
export interface LoadStatus {
  ok: number;
  failed: number;
  listed: Failure[];
}

export function encodeStatus(s: LoadStatus): Uint8Array {
  const b = new Uint8Array(STATUS_BYTES);
  const dv = new DataView(b.buffer);
  const listed = s.listed.slice(0, MAX_LISTED);
  dv.setUint32(0, s.ok, true);
  dv.setUint32(4, s.failed, true);
  dv.setUint32(8, listed.length, true);
  const enc = new TextEncoder();
  listed.forEach((f, i) => {
    const at = 12 + i * (4 + REASON_BYTES);
    dv.setUint32(at, f.rank, true);
    b.set(enc.encode(f.reason).subarray(0, REASON_BYTES - 1), at + 4);
  });
  return b;
}

export function decodeStatus(b: Uint8Array): LoadStatus {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = Math.min(dv.getUint32(8, true), MAX_LISTED);
  const listed: Failure[] = [];
  for (let i = 0; i < n; i++) {
    const at = 12 + i * (4 + REASON_BYTES);
    const raw = b.subarray(at + 4, at + 4 + REASON_BYTES);
    const end = raw.indexOf(0);
    listed.push({ rank: dv.getUint32(at, true), reason: new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end)) });
  }
  return { ok: dv.getUint32(0, true), failed: dv.getUint32(4, true), listed };
}

export function addFailure(s: LoadStatus, failed: number, f: Failure): void {
  s.failed += failed;
  if (s.listed.length < MAX_LISTED) s.listed.push(f);
}

export function mergeStatus(into: LoadStatus, from: LoadStatus): void {
  into.ok += from.ok;
  into.failed += from.failed;
  for (const f of from.listed) if (into.listed.length < MAX_LISTED) into.listed.push(f);
}

/** A kernel message as lwk_kmsg_recv returns it. */
export interface KMsgRecord {
  readonly type: number;
  readonly srcNid: number;
  readonly srcPid: number;
  readonly rank: number;
  readonly jobId: number;
  readonly code: number;
  readonly ranks: number;
  readonly failed: number;
  readonly firstFailedRank: number;
  readonly firstFailedStatus: number;
  readonly text: string;
}

/** Waits for a kernel message; null on timeout. */
export function* recvKMsg(env: Env, buf: number, timeoutNs: number) {
  const n = yield* env.sys.kmsgRecv(buf, KMSG_BUF, timeoutNs);
  // A deadline already past polls: an empty mailbox is then EAGAIN, also "nothing in time".
  if (n === -ETIMEDOUT || n === -EAGAIN) return null;
  if (n < 0) throw new Error(`lwk_kmsg_recv failed (errno ${-n})`);
  const w: number[] = [];
  for (let i = 0; i < KMSG.RECORD_WORDS; i++) w.push(Number(BigInt.asIntN(64, yield* env.mem.loadU64(buf + 8 * i))));
  const len = w[KMSG.R_BYTES];
  const text = len > 0 ? new TextDecoder().decode(yield* env.mem.load(buf + KMSG.RECORD_WORDS * 8, len)) : '';
  return {
    type: w[KMSG.R_TYPE],
    srcNid: w[KMSG.R_SRC_NID],
    srcPid: w[KMSG.R_SRC_PID],
    rank: w[KMSG.R_RANK],
    jobId: w[KMSG.R_JOB_ID],
    code: w[KMSG.R_CODE],
    ranks: w[KMSG.R_RANKS],
    failed: w[KMSG.R_FAILED],
    firstFailedRank: w[KMSG.R_FIRST_FAILED_RANK],
    firstFailedStatus: w[KMSG.R_FIRST_FAILED_STATUS],
    text,
  } satisfies KMsgRecord;
}

export function kmsgBuffer(env: Env) {
  return env.mem.alloc(KMSG_BUF);
}

/** The Portals end of the protocol on one rank (or on yod). */
export interface LoadPortals {
  readonly P: Portals;
  readonly ni: number;
  readonly eq: number;
  readonly store: number;
  readonly storeMd: number;
  readonly status: number;
  readonly sendBuf: number;
  readonly sendMd: number;
}

function check(what: string, rc: number): void {
  if (rc !== PTL.OK) throw new Error(`${what} failed with PTL code ${rc}`);
}

/** Sets up the load portal: the image store (served to GETs), status slots for `slots` children, and the GO entry. */
export function* setupLoadPortals(env: Env, storeBytes: number, slots: number): U<LoadPortals> {
  const { sys } = env;
  const P = new Portals(env.cpu, env.mem);
  check('PtlInit', yield* P.PtlInit());
  const n = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_MATCHING | PTL.NI_PHYSICAL, PTL.PID_ANY, null);
  check('PtlNIInit', n.rc);
  const eq = yield* P.PtlEQAlloc(n.ni, 2 * slots + 64);
  check('PtlEQAlloc', eq.rc);
  check('PtlPTAlloc', (yield* P.PtlPTAlloc(n.ni, 0, eq.eq, LOAD_PT)).rc);
  const map = (len: number) => sys.mmap(0, Math.max(len, 4096), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  const store = yield* map(storeBytes);
  const status = yield* map(Math.max(1, slots) * STATUS_BYTES);
  const sendBuf = yield* map(STATUS_BYTES + 64);
  if (store < 0 || status < 0 || sendBuf < 0) throw new Error('no memory for the load buffers');
  const quiet = PTL.ME_EVENT_LINK_DISABLE;
  check('PtlMEAppend', (yield* P.PtlMEAppend(n.ni, LOAD_PT, { start: store, length: Math.max(storeBytes, 1), options: PTL.ME_OP_GET | quiet | PTL.ME_EVENT_COMM_DISABLE, match_bits: IMAGE_BITS }, PTL.PRIORITY_LIST, 0)).rc);
  check('PtlMEAppend', (yield* P.PtlMEAppend(n.ni, LOAD_PT, { start: status, length: Math.max(1, slots) * STATUS_BYTES, options: PTL.ME_OP_PUT | PTL.ME_MANAGE_LOCAL | quiet, match_bits: STATUS_BITS }, PTL.PRIORITY_LIST, 0)).rc);
  check('PtlMEAppend', (yield* P.PtlMEAppend(n.ni, LOAD_PT, { start: sendBuf + STATUS_BYTES, length: 64, options: PTL.ME_OP_PUT | quiet, match_bits: GO_BITS }, PTL.PRIORITY_LIST, 0)).rc);
  const storeMd = yield* P.PtlMDBind(n.ni, { start: store, length: Math.max(storeBytes, 1), eq_handle: eq.eq, options: PTL.MD_EVENT_SEND_DISABLE });
  check('PtlMDBind', storeMd.rc);
  const sendMd = yield* P.PtlMDBind(n.ni, { start: sendBuf, length: STATUS_BYTES, options: PTL.MD_EVENT_SEND_DISABLE });
  check('PtlMDBind', sendMd.rc);
  return { P, ni: n.ni, eq: eq.eq, store, storeMd: storeMd.md, status, sendBuf, sendMd: sendMd.md };
}

/** Waits for the next load-portal event until `deadlineNs` (absolute); null on timeout. */
export function* nextEvent(env: Env, lp: LoadPortals, deadlineNs: number) {
  for (;;) {
    const now = yield* env.sys.clockNs();
    const left = deadlineNs === Infinity ? PTL.TIME_FOREVER : Math.max(0, Math.ceil((deadlineNs - now) / 1e6));
    const r = yield* lp.P.PtlEQPoll([lp.eq], left);
    if (r.rc === PTL.EQ_EMPTY) {
      if (deadlineNs === Infinity) continue;
      return null;
    }
    if (r.rc !== PTL.OK && r.rc !== PTL.EQ_DROPPED) throw new Error(`PtlEQPoll failed with ${r.rc}`);
    return r.event as PtlEvent;
  }
}

/** Sends `bytes` (at most STATUS_BYTES) to `target` with the given match bits. */
export function* sendSmall(env: Env, lp: LoadPortals, target: PtlProcess, bits: bigint, bytes: Uint8Array) {
  yield* env.mem.store(lp.sendBuf, bytes);
  check('PtlPut', yield* lp.P.PtlPut(lp.sendMd, 0, bytes.length, PTL.NO_ACK_REQ, target, LOAD_PT, bits, 0, 0, 0));
}

/** Images the subtree of `rank` runs (so its parent must fetch them). */
function imagesFor(job: JobInfo, rank: number): number[] {
  if (job.images.length === 1) return [0];
  const set = new Set<number>();
  for (const r of subtreeOf(job.fanout, rank, job.size)) set.add(placeOf(job.ranges, r).image);
  return [...set].sort((a, b) => a - b);
}

export interface LoadResult {
  readonly lp: LoadPortals;
  readonly status: LoadStatus;
  /** The executable's place in the store (two-phase), for exec. */
  readonly image: { readonly offset: number; readonly length: number };
}

/**
 * Runs this rank's part of the load: fetch (two-phase), load the children,
 * gather their status, report it up, wait for GO and pass it on. Returns
 * after GO; the caller then jumps into main (exec, or crt0's call).
 */
export function* loadSubtree(env: Env, job: JobInfo, rank: number, jobBlockBytes: number) {
  const f = job.fanout;
  const kids = childrenOf(f, rank, job.size);
  const parent = parentOf(f, rank);
  const parentTarget: PtlProcess = parent < 0 ? { nid: job.serviceNid, pid: job.servicePid } : { nid: placeOf(job.ranges, parent).nid, pid: job.pid };
  // Deeper ranks give up first, so that every parent still reports in time.
  const slice = (job.timeoutUs * 1000) / (treeDepth(f, job.size) + 2);
  const deadline = job.startUs * 1000 + job.timeoutUs * 1000 - (depthOf(f, rank) + 1) * slice;
  const lp = yield* setupLoadPortals(env, job.storeBytes, kids.length);
  const status: LoadStatus = { ok: 0, failed: 0, listed: [] };
  const own = placeOf(job.ranges, rank).image;
  const image = job.images[own];
  let fetchFailure: string | null = null;

  if (job.mode === 'two-phase') {
    // Step 6/10: GET the executables of this subtree from the parent.
    const want = imagesFor(job, rank);
    for (const i of want) {
      const im = job.images[i];
      check('PtlGet', yield* lp.P.PtlGet(lp.storeMd, im.offset, im.length, parentTarget, LOAD_PT, IMAGE_BITS, im.offset, 0));
    }
    for (let got = 0; got < want.length && fetchFailure === null; ) {
      const ev = yield* nextEvent(env, lp, deadline);
      if (ev === null) fetchFailure = 'timed out fetching the executable from its parent';
      else if (ev.type === PTL.EVENT_REPLY) {
        if (ev.ni_fail_type !== PTL.NI_OK) fetchFailure = `fetching the executable failed (ni_fail ${ev.ni_fail_type})`;
        got++;
      }
    }
  }

  if (fetchFailure === null && job.mode === 'two-phase') {
    const check = yield* env.sys.imageCheck(lp.store + image.offset, image.length);
    if (check.rc < 0) fetchFailure = `bad executable: ${check.reason}`;
  }
  const acked: number[] = [];
  if (fetchFailure !== null) {
    addFailure(status, subtreeOf(f, rank, job.size).length, { rank, reason: fetchFailure });
  } else {
    status.ok++;
    const kbuf = yield* kmsgBuffer(env);
    const payloadLen = job.initLen + jobBlockBytes;
    const send = (child: number) =>
      env.sys.kmsgSend({ type: KMSG.LOAD, dstNid: placeOf(job.ranges, child).nid, dstPid: job.pid, rank: child, jobId: job.jobId, payload: LAYOUT.IMAGE_BASE, payloadLen, imageLen: job.initLen, jobSize: job.size });
    const answered = new Set<number>();
    const take = function* (): U<boolean> {
      const now = yield* env.sys.clockNs();
      const m = yield* recvKMsg(env, kbuf, Math.max(0, deadline - now));
      if (m === null) return false;
      if (m.jobId !== job.jobId || answered.has(m.rank) || !kids.includes(m.rank)) return true;
      answered.add(m.rank);
      if (m.type === KMSG.LOAD_ACK) acked.push(m.rank);
      else addFailure(status, subtreeOf(f, m.rank, job.size).length, { rank: m.rank, reason: m.text || 'load refused' });
      return true;
    };
    // Step 8: the job-load message to each child; flat waits for each answer in turn.
    for (const child of kids) {
      const rc = yield* send(child);
      if (rc < 0) {
        answered.add(child);
        addFailure(status, subtreeOf(f, child, job.size).length, { rank: child, reason: `job-load send failed (errno ${-rc})` });
        continue;
      }
      if (f.kind === 'flat') while (!answered.has(child)) if (!(yield* take())) break;
    }
    while (answered.size < kids.length) if (!(yield* take())) break;
    for (const child of kids) {
      if (answered.has(child)) continue;
      addFailure(status, subtreeOf(f, child, job.size).length, { rank: child, reason: `no answer from node ${placeOf(job.ranges, child).nid} (timeout)` });
    }
    // Step 11: the status of every loaded child's subtree.
    const reported = new Set<number>();
    while (reported.size < acked.length) {
      const ev = yield* nextEvent(env, lp, deadline);
      if (ev === null) break;
      if (ev.type !== PTL.EVENT_PUT || ev.match_bits !== STATUS_BITS) continue;
      const s = decodeStatus(yield* env.mem.load(ev.start, STATUS_BYTES));
      mergeStatus(status, s);
      reported.add(ev.initiator_nid);
    }
    if (reported.size < acked.length) {
      for (const child of acked) {
        if (reported.has(placeOf(job.ranges, child).nid)) continue;
        addFailure(status, subtreeOf(f, child, job.size).length, { rank: child, reason: 'no status from this subtree (timeout)' });
      }
    }
  }
  // Step 11/12: report to the parent (rank 0 reports to yod on the service node).
  yield* sendSmall(env, lp, parentTarget, STATUS_BITS, encodeStatus(status));
  // Step 13/14: GO comes down the tree; pass it on before jumping into main.
  for (;;) {
    const ev = yield* nextEvent(env, lp, Infinity);
    if (ev !== null && ev.type === PTL.EVENT_PUT && ev.match_bits === GO_BITS) break;
  }
  for (const child of acked) yield* sendSmall(env, lp, { nid: placeOf(job.ranges, child).nid, pid: job.pid }, GO_BITS, new Uint8Array(8));
  return { lp, status, image } satisfies LoadResult;
}
