// The user-level DSM: the baseline seed 003 argues against. The same
// invalidation protocol as the kernel DSM (sequential consistency: one
// writer or many readers per page, a fixed manager per page -- page p is
// managed by rank p mod size), built from what a user program has:
//
//   - mprotect for the access rights of each page on this rank,
//   - the user fault handler (env.onFault) to catch an access to a page this
//     rank may not touch,
//   - Portals puts for the protocol's messages and page data,
//   - a service thread that serves requests arriving while the application
//     computes: either a communication thread blocked in PtlEQWait (woken
//     by the receive interrupt: a context switch to it and back) -- mode
//     'thread' -- or a thread that polls the event queue without end (a
//     core spent spinning) -- mode 'poll'.
//
// Every one of those is a real system call or context switch in the
// simulation, and the counters in stats() count them.
//
// Protocol (manager m of page p serialises the requests for p, one at a
// time; the requester's ACK ends a transaction):
//   read fault at r:  r -RREQ-> m.  If some rank o owns p exclusively,
//                     m -FETCH(downgrade)-> o, o -DATA-> r; else a reader s
//                     sends it (m -FETCH(keep)-> s -DATA-> r).  r installs,
//                     r -ACK-> m.
//   write fault at r: r -WREQ-> m.  m invalidates every other copy
//                     (INV / INV_ACK) and only then lets r write: by a GRANT
//                     when r already holds a valid copy, else by a
//                     FETCH(invalidate) of the last copy, which sends DATA
//                     to r.  r installs, r -ACK-> m.
// A page starts owned (read-write) by its manager.
//
// Limitation: a process cannot write a page's new contents where its other
// threads cannot see them first (that needs a second mapping of the same
// memory, which Margay's mmap has not), so between the installing
// mprotect and the copy another application thread of the same process
// could read stale bytes. The user DSM is therefore meant for one
// application thread per rank (the service thread does not touch pages
// being installed); the kernel DSM has no such limit.

import { ERRNO, SYS } from '../abi.gen.ts';
import type { U } from '../ops.ts';
import { PTL, Portals, type PtlEvent } from '../portals.ts';
import { CONTROL_GIVE_UP_NS, CTL_BITS as APP_CTL_BITS, GO_BITS as APP_GO_BITS, PeerEnded, type PtlApp, sendControl, setup, teardown, waitUntil } from '../ptlapp.ts';
import { type Env, THREAD_STACK, type ThreadHandle } from '../runtime.ts';
import { FUTEX_WAIT, FUTEX_WAKE, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_NONE, PROT_READ, PROT_WRITE } from '../sys.ts';
import type { Dsm, DsmOptions, DsmStats } from './api.ts';
import { DsmError } from './api.ts';
import { callFailed, errnoName } from './errors.ts';
import { KERNEL_DSM_MAX_BYTES } from './kernel.ts';

export type UserDsmMode = 'thread' | 'poll';
export const USER_DSM_MODES: readonly UserDsmMode[] = ['thread', 'poll'];

export interface UserDsmOptions extends DsmOptions {
  /** How requests arriving at this rank are served (default 'thread'). */
  readonly mode?: UserDsmMode;
  /** Cycles a polling thread computes between two empty polls (default 200). */
  readonly pollCycles?: number;
}

/** Where the region lives on every rank (a fixed address so pointers into it mean the same everywhere). */
export const USER_DSM_BASE = 0x5000_0000_0000;
export const PAGE = 4096;
/** The largest region: the kernel DSM's, so a program's sizes work with either (its page number travels in 24 bits). */
export const USER_DSM_MAX_BYTES = KERNEL_DSM_MAX_BYTES;
/**
 * Locks a program may use: ids 0 .. USER_DSM_LOCKS-1, fewer than the kernel
 * DSM's 0 .. 2^31-1: the id travels in the same 24-bit field of a message's
 * 64-bit header as a page number, and the manager's table of locks lives in
 * the process.
 */
export const USER_DSM_LOCKS = 1 << 16;

const DSM_PT = 3;
const CTL_BITS = 0xd5a0n;
const DATA_BITS = 0xd5a1n;
/** Threads of one process that may wait in the DSM at once (each has a slot: a wait word and an inbox page). */
const SLOTS = 16;
/** Pages of send staging, used round the ring (a slot is reused only after SEND_SLOTS later page sends). */
const SEND_SLOTS = 64;
/** A waiting thread wakes this often and probes the other ranks: one that ended or whose node is down ends the wait. */
const WAIT_SLICE_NS = 100e6;
/** A polling thread probes this often (its spinning costs host time per simulated ns: a long slice takes minutes to simulate). */
const POLL_SLICE_NS = 5e6;
/** Empty polls between two looks at the clock (a system call). */
const POLLS_PER_CLOCK = 4096;
/** How long a probe waits for its acknowledgment before the rank is taken for unreachable. */
const PROBE_WAIT_MS = 20;
const PROBE_BITS = 0xd5a2n;
/** At set-up, a rank waiting for the others probes the ones it waits for this often (a rank that ended is named within a few ms). */
const JOIN_PROBE_NS = 2e6;
/** Set-up release words at or above this name a rank that ended before it joined (ABORT + rank) instead of the epoch. */
const JOIN_ABORT = 1n << 48n;

// Message kinds (low 8 bits of hdr_data).
const enum K {
  RREQ = 1,
  WREQ,
  FETCH,
  INV,
  INV_ACK,
  DATA,
  GRANT,
  ACK,
  LOCK,
  LOCK_GRANT,
  UNLOCK,
  BAR_ARRIVE,
  BAR_GO,
  STOP,
  /** manager -> requester: page `a` is lost with rank `from`, which ended holding it. */
  FAIL,
  /** a waiting rank -> a page's manager: rank `a` no longer answers probes (the manager checks for itself). */
  GONE,
}

// FETCH modes: what the holder does with its copy before sending it.
const KEEP = 0;
const DOWNGRADE = 1;
const INVALIDATE = 2;

// Local access rights of a page (what mprotect set).
const NONE = 0;
const READ = 1;
const WRITE = 2;

interface Msg {
  kind: number;
  a: number; // page or lock id
  from: number; // rank
  slot: number;
  mode: number;
}

function pack(m: Msg): bigint {
  return BigInt(m.kind) | (BigInt(m.a) << 8n) | (BigInt(m.from) << 32n) | (BigInt(m.slot) << 48n) | (BigInt(m.mode) << 56n);
}

function unpack(h: bigint): Msg {
  const w = BigInt.asUintN(64, h);
  return { kind: Number(w & 0xffn), a: Number((w >> 8n) & 0xffffffn), from: Number((w >> 32n) & 0xffffn), slot: Number((w >> 48n) & 0xffn), mode: Number((w >> 56n) & 0xffn) };
}

interface Request {
  readonly write: boolean;
  readonly from: number;
  readonly slot: number;
}

/** The manager's record of one page. */
interface DirEntry {
  owner: number; // rank holding it read-write, or -1
  readers: Set<number>;
  busy: Request | null;
  /** Ranks asked to drop their copy for the write in progress, whose INV_ACK is still due. */
  readonly invalidating: Set<number>;
  readonly queue: Request[];
}

interface Counters {
  faults: number;
  readFaults: number;
  writeFaults: number;
  invalidations: number;
  syscalls: number;
  crossings: number;
  messages: number;
  switches: number;
  dropped: number;
}

/** Opens the job's user-level shared region of `bytes` bytes; every rank calls it. */
export function* openUserDsm(env: Env, bytes: number, opts: UserDsmOptions = {}): U<Dsm> {
  const mode = opts.mode ?? 'thread';
  if (!USER_DSM_MODES.includes(mode)) throw new DsmError(`dsm: mode must be one of ${USER_DSM_MODES.join(', ')}, got '${mode}'`);
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes > USER_DSM_MAX_BYTES) throw new DsmError(`dsm: a region is 1 byte to ${USER_DSM_MAX_BYTES} bytes, got ${bytes}`);
  const pollCycles = opts.pollCycles ?? 200;
  const pages = Math.ceil(bytes / PAGE);
  const { sys, mem } = env;
  const c: Counters = { faults: 0, readFaults: 0, writeFaults: 0, invalidations: 0, syscalls: 0, crossings: 0, messages: 0, switches: 0, dropped: 0 };

  // Every system call the DSM makes goes through here, so that it is counted.
  function* sc<T>(call: U<T>): U<T> {
    c.syscalls++;
    c.crossings++;
    return yield* call;
  }
  const check = (what: string, rc: number) => {
    if (rc !== PTL.OK) throw new DsmError(`dsm: ${what} failed with PTL code ${rc}`);
  };

  const app: PtlApp = yield* setup(env, PAGE);
  const { rank, size, ni } = app;
  if (size > 0xffff) throw new DsmError(`dsm: at most 65535 ranks, the job has ${size}`);
  const P = app.P;

  const base = yield* sys.mmap(USER_DSM_BASE, pages * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
  if (base !== USER_DSM_BASE) throw new DsmError(`dsm: cannot map the region at 0x${USER_DSM_BASE.toString(16)}: mmap failed with ${errnoName(-base)}`);
  // Every change of a page's rights is checked: a rights table that says WRITE over a page the kernel
  // left PROT_NONE would send the fault handler round for ever.
  const protectedOrThrow = (page: number, rc: number) => {
    if (rc < 0) throw new DsmError(`dsm: mprotect of page ${page} (0x${(base + page * PAGE).toString(16)}) failed with ${errnoName(-rc)}`);
  };
  const anon = (n: number) => sys.mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  const inbox = yield* anon(SLOTS * PAGE);
  const outbox = yield* anon(SEND_SLOTS * PAGE);
  const words = yield* anon(PAGE); // one u32 wait word per slot; the wait slice's timespec at +1024
  yield* mem.storeU64(words + 1024, 0n);
  yield* mem.storeU64(words + 1032, BigInt(WAIT_SLICE_NS));
  const eq = yield* P.PtlEQAlloc(ni, Math.max(1024, 8 * size + 256));
  check('PtlEQAlloc', eq.rc);
  check('PtlPTAlloc', (yield* P.PtlPTAlloc(ni, 0, eq.eq, DSM_PT)).rc);
  // Only the job's uid may put here (app.uid): with PTL_UID_ANY another user's process could drive the protocol.
  const opt = PTL.ME_OP_PUT | PTL.ME_EVENT_LINK_DISABLE;
  check('PtlMEAppend', (yield* P.PtlMEAppend(ni, DSM_PT, { start: words + 2048, length: 64, options: opt, match_bits: CTL_BITS, uid: app.uid }, PTL.PRIORITY_LIST, 0)).rc);
  check('PtlMEAppend', (yield* P.PtlMEAppend(ni, DSM_PT, { start: inbox, length: SLOTS * PAGE, options: opt, match_bits: DATA_BITS, uid: app.uid }, PTL.PRIORITY_LIST, 0)).rc);
  const md = yield* P.PtlMDBind(ni, { start: outbox, length: SEND_SLOTS * PAGE, options: PTL.MD_EVENT_SEND_DISABLE });
  check('PtlMDBind', md.rc);
  // Probes: empty acknowledged puts whose answer says whether a rank's process is still there.
  const probeEq = yield* P.PtlEQAlloc(ni, 64);
  check('PtlEQAlloc', probeEq.rc);
  const probeMd = yield* P.PtlMDBind(ni, { start: words + 3072, length: 8, eq_handle: probeEq.eq, options: 0 });
  check('PtlMDBind', probeMd.rc);
  let probes = 0;

  // This rank's rights on each page, the manager's directory of the pages it manages,
  // and the pages a local thread is fetching.
  const rights = new Uint8Array(pages);
  /** What each slot's thread waits for ('p<page>', 'l<lock>', 'b'): an answer for anything else is dropped. */
  const awaiting: (string | null)[] = new Array(SLOTS).fill(null);
  const fetching = new Set<number>();
  const dir = new Map<number, DirEntry>();
  /** Managed pages whose only current copy went with a rank that ended: the rank. */
  const lost = new Map<number, number>();
  /** Ranks this manager found gone (GONE, checked by its own probe). */
  const goneRanks = new Set<number>();
  const managerOf = (page: number) => page % size;
  for (let p = rank; p < pages; p += size) {
    dir.set(p, { owner: rank, readers: new Set(), busy: null, invalidating: new Set(), queue: [] });
    protectedOrThrow(p, yield* sys.mprotect(base + p * PAGE, PAGE, PROT_READ | PROT_WRITE));
    rights[p] = WRITE;
  }
  // Locks (managed by rank id mod size): holder and waiters; the barrier at rank 0.
  const locks = new Map<number, { holder: number; waiters: { from: number; slot: number }[] }>();
  const arrived = new Set<number>();
  const barrierWaiters: { from: number; slot: number }[] = [];
  let nextSend = 0;

  // Threads that wait in the DSM: a slot each (its wait word and inbox page) and a Portals wrapper.
  const threads = new Map<Env, { P: Portals; slot: number }>();
  const ctx = (t: Env) => {
    let x = threads.get(t);
    if (x === undefined) {
      if (threads.size >= SLOTS) throw new DsmError(`dsm: more than ${SLOTS} threads of one process use the DSM`);
      x = { P: new Portals(t.cpu, t.mem), slot: threads.size };
      threads.set(t, x);
    }
    return x;
  };

  function* send(t: Env, to: number, m: Msg, data = -1): U {
    c.messages++;
    const { P: tp } = ctx(t);
    const rc =
      data < 0
        ? yield* sc(tp.PtlPut(md.md, 0, 0, PTL.NO_ACK_REQ, { rank: to }, DSM_PT, CTL_BITS, 0, 0, pack(m)))
        : yield* sc(tp.PtlPut(md.md, data * PAGE, PAGE, PTL.NO_ACK_REQ, { rank: to }, DSM_PT, DATA_BITS, m.slot * PAGE, 0, pack(m)));
    check('PtlPut', rc);
  }

  function* protect(t: Env, page: number, r: number): U {
    protectedOrThrow(page, yield* sc(t.sys.mprotect(base + page * PAGE, PAGE, r === WRITE ? PROT_READ | PROT_WRITE : r === READ ? PROT_READ : PROT_NONE)));
    rights[page] = r;
  }

  // ---- waiting for an answer (the service thread sets the word) ----

  // Every WAIT_SLICE_NS without an answer the thread probes the other ranks: a rank that ended (its
  // process is gone) or cannot be reached ends the wait with an error naming it -- a user-level DSM
  // has no other way to learn it. While every rank answers, the wait goes on: a slow rank is waited
  // for (Margay's network does not lose messages; a program that deadlocks meets the run's time limit).
  function* waitWord(t: Env, slot: number, what: string, from: number, page = -1): U<number> {
    const reported = new Set<number>();
    const w = words + 4 * slot;
    let spins = 0;
    let lastProbe = -1;
    for (;;) {
      const v = yield* t.mem.loadU32(w);
      if (v !== 0) {
        yield* t.mem.storeU32(w, 0);
        return v;
      }
      let slice = false;
      if (mode === 'thread') slice = (yield* sc(t.sys.futex(w, FUTEX_WAIT, 0, words + 1024))) === -ERRNO.ETIMEDOUT;
      else {
        yield* t.compute(pollCycles);
        // The clock is a system call: look at it only now and then.
        if (++spins % POLLS_PER_CLOCK === 0) {
          const now = yield* sc(t.sys.clockNs());
          if (lastProbe < 0) lastProbe = now;
          else if (now - lastProbe >= POLL_SLICE_NS) {
            lastProbe = now;
            slice = true;
          }
        }
      }
      if (!slice) continue;
      const gone = yield* goneRank(t, from);
      if (gone !== null && page >= 0 && gone.rank !== from && !reported.has(gone.rank)) {
        // Waiting for a page whose manager answers: tell it, so it can end or forget what the gone rank held up.
        reported.add(gone.rank);
        yield* send(t, from, { kind: K.GONE, a: gone.rank, from: rank, slot, mode: 0 });
        continue;
      }
      if (gone !== null) {
        awaiting[slot] = null;
        throw new DsmError(`dsm: rank ${rank} waited for ${what} (asked of rank ${from}), but rank ${gone.rank} ${gone.why}: the shared region cannot go on`);
      }
    }
  }

  /** The first other rank (`first`, the one asked, before the rest) that has ended or cannot be reached, by acknowledged empty puts; null if all answer. */
  function* goneRank(t: Env, first: number): U<{ rank: number; why: string } | null> {
    const tp = ctx(t).P;
    for (let i = 0; i < size; i++) {
      const x = i === 0 ? first : i <= first ? i - 1 : i;
      if (x === rank) continue;
      const why = yield* probe(tp, x);
      if (why !== null) return { rank: x, why };
    }
    return null;
  }

  /** Why rank `x` no longer takes part (its process is gone, its node is down), or null if it answers. */
  function* probe(tp: Portals, x: number): U<string | null> {
    const nonce = ++probes;
    check('PtlPut', yield* sc(tp.PtlPut(probeMd.md, 0, 0, PTL.ACK_REQ, { rank: x }, DSM_PT, PROBE_BITS, 0, nonce, 0n)));
    for (;;) {
      const r = yield* sc(tp.PtlEQPoll([probeEq.eq], PROBE_WAIT_MS));
      if (r.rc === PTL.EQ_EMPTY || r.event === null) return `does not answer a probe in ${PROBE_WAIT_MS} ms (its node may be down)`;
      if (r.event.user_ptr !== BigInt(nonce)) continue; // a late answer to an earlier probe
      if (r.event.type === PTL.EVENT_SEND && r.event.ni_fail_type === PTL.NI_OK) continue;
      if (r.event.type !== PTL.EVENT_ACK) return 'cannot be reached (its node is down)';
      // After set-up every rank has its interface: no interface, as much as an ended process, means it is gone.
      if (r.event.ni_fail_type === PTL.NI_TARGET_ENDED || r.event.ni_fail_type === PTL.NI_TARGET_INVALID) return 'has ended (its process is gone: it returned or was killed)';
      return null;
    }
  }

  /** Whether rank `x`'s process has ended (at set-up: a rank with no interface yet may just be slow to start). */
  function* ended(x: number): U<boolean> {
    const nonce = ++probes;
    check('PtlPut', yield* sc(P.PtlPut(probeMd.md, 0, 0, PTL.ACK_REQ, { rank: x }, DSM_PT, PROBE_BITS, 0, nonce, 0n)));
    for (;;) {
      const r = yield* sc(P.PtlEQPoll([probeEq.eq], PROBE_WAIT_MS));
      if (r.rc === PTL.EQ_EMPTY || r.event === null) return false; // no answer: the set-up's own time limit decides
      if (r.event.user_ptr !== BigInt(nonce)) continue;
      if (r.event.type === PTL.EVENT_ACK) return r.event.ni_fail_type === PTL.NI_TARGET_ENDED;
      if (r.event.ni_fail_type !== PTL.NI_OK) return false;
    }
  }

  /**
   * The set-up barrier: nobody sends a DSM message before every rank can
   * receive it. Like ptlapp's barrier, but a rank that ended before it
   * joined (PTL_NI_TARGET_ENDED) ends everyone's openDsm within a few ms
   * with its name, while a rank merely slow to start (no interface yet:
   * PTL_NI_TARGET_INVALID) is waited for, up to ptlapp's time limit.
   */
  function* join(): U {
    const epoch = BigInt(app.epoch);
    const deadline = (yield* sys.clockNs()) + CONTROL_GIVE_UP_NS;
    const endedBeforeJoining = (x: number) => new DsmError(`dsm: rank ${x} has ended before it joined the shared region`);
    const late = (who: string) => new DsmError(`dsm: rank ${rank}: ${who} did not join the shared region in ${CONTROL_GIVE_UP_NS / 1e6} ms of simulated time`);
    if (rank === 0) {
      const reported = new Set<number>();
      while (reported.size < size - 1) {
        const now = yield* sys.clockNs();
        const ev = yield* waitUntil(env, app, APP_CTL_BITS, Math.min(deadline, now + JOIN_PROBE_NS));
        if (ev !== null) {
          if (ev.hdr_data === epoch && ev.initiator_nid > 0 && ev.initiator_nid < size) reported.add(ev.initiator_nid);
          continue;
        }
        const missing = Array.from({ length: size }, (_, i) => i).filter((i) => i > 0 && !reported.has(i));
        if (now + JOIN_PROBE_NS >= deadline) throw late(`rank(s) ${missing.join(', ')}`);
        for (const x of missing) {
          if (!(yield* ended(x))) continue;
          // The others learn whom they wait for in vain (one try each: a rank not up yet finds rank 0 ended instead).
          for (let i = 1; i < size; i++) if (i !== x) check('PtlPut', yield* sc(P.PtlPut(app.ctlMd, 0, 8, PTL.NO_ACK_REQ, { rank: i }, 0, APP_GO_BITS, 0, 0, JOIN_ABORT + BigInt(x))));
          throw endedBeforeJoining(x);
        }
      }
      for (let i = 1; i < size; i++) {
        try {
          yield* sendControl(env, app, i, APP_GO_BITS, CONTROL_GIVE_UP_NS, app.epoch);
        } catch (e) {
          if (e instanceof PeerEnded) throw endedBeforeJoining(i);
          throw e;
        }
      }
    } else {
      try {
        yield* sendControl(env, app, 0, APP_CTL_BITS);
      } catch (e) {
        if (e instanceof PeerEnded) throw endedBeforeJoining(0);
        throw e;
      }
      for (;;) {
        const now = yield* sys.clockNs();
        const ev = yield* waitUntil(env, app, APP_GO_BITS, Math.min(deadline, now + JOIN_PROBE_NS));
        if (ev === null) {
          if (now + JOIN_PROBE_NS >= deadline) throw late('rank 0');
          if (yield* ended(0)) throw endedBeforeJoining(0);
          continue;
        }
        if (ev.initiator_nid !== 0) continue;
        if (ev.hdr_data === epoch) break;
        if (ev.hdr_data >= JOIN_ABORT) throw endedBeforeJoining(Number(ev.hdr_data - JOIN_ABORT));
      }
    }
    app.epoch++;
  }

  function* wake(t: Env, slot: number, v: number): U {
    awaiting[slot] = null;
    const w = words + 4 * slot;
    yield* t.mem.storeU32(w, v);
    if (mode === 'thread') yield* sc(t.sys.futex(w, FUTEX_WAKE, 1));
  }

  // ---- the manager ----

  function* startNext(t: Env, page: number): U {
    const d = dir.get(page) as DirEntry;
    if (d.busy !== null) return;
    const q = d.queue.shift();
    if (q === undefined) return;
    const lostWith = lost.get(page);
    if (lostWith !== undefined) {
      yield* send(t, q.from, { kind: K.FAIL, a: page, from: lostWith, slot: q.slot, mode: 0 });
      return yield* startNext(t, page);
    }
    d.busy = q;
    const r = q.from;
    if (!q.write) {
      if (d.owner === r || (d.owner < 0 && d.readers.has(r))) {
        yield* send(t, r, { kind: K.GRANT, a: page, from: rank, slot: q.slot, mode: d.owner === r ? WRITE : READ });
      } else if (d.owner >= 0) {
        const o = d.owner;
        d.owner = -1;
        d.readers = new Set([o, r]);
        yield* send(t, o, { kind: K.FETCH, a: page, from: r, slot: q.slot, mode: DOWNGRADE });
      } else {
        const s = d.readers.has(rank) ? rank : Math.min(...d.readers);
        d.readers.add(r);
        yield* send(t, s, { kind: K.FETCH, a: page, from: r, slot: q.slot, mode: KEEP });
      }
      return;
    }
    // A write: every other copy goes before the writer may write.
    if (d.owner >= 0) {
      const o = d.owner;
      d.owner = r;
      d.readers = new Set();
      if (o === r) yield* send(t, r, { kind: K.GRANT, a: page, from: rank, slot: q.slot, mode: WRITE });
      else yield* send(t, o, { kind: K.FETCH, a: page, from: r, slot: q.slot, mode: INVALIDATE });
      return;
    }
    // Readers: invalidate all but one (the requester if it has a copy); that one is dealt with in finishWrite.
    const others = [...d.readers].filter((x) => x !== r).sort((x, y) => x - y);
    const keep = d.readers.has(r) ? -1 : (others.pop() as number);
    for (const x of others) d.invalidating.add(x);
    (q as { keep?: number }).keep = keep;
    for (const x of others) yield* send(t, x, { kind: K.INV, a: page, from: rank, slot: 0, mode: 0 });
    if (d.invalidating.size === 0) yield* finishWrite(t, page);
  }

  function* finishWrite(t: Env, page: number): U {
    const d = dir.get(page) as DirEntry;
    const q = d.busy as Request & { keep?: number };
    const keep = q.keep ?? -1;
    d.owner = q.from;
    d.readers = new Set();
    if (keep < 0) yield* send(t, q.from, { kind: K.GRANT, a: page, from: rank, slot: q.slot, mode: WRITE });
    else yield* send(t, keep, { kind: K.FETCH, a: page, from: q.from, slot: q.slot, mode: INVALIDATE });
  }

  // ---- the service thread: every message arriving at this rank ----

  // A message that does not fit the protocol's state (unknown kind, a page or lock out of range or not
  // this rank's to manage, an answer nobody waits for, a sender that has no business sending it) is
  // dropped and counted: no message can end the rank.
  function drop(): boolean {
    c.dropped++;
    return true;
  }

  /**
   * A rank has ended (or its node is down): the pages this rank manages go on
   * without it. A read it had in progress is abandoned (the copies it was
   * getting stay where they are); a page it held a copy of, or was getting
   * for writing, is lost with it (conservatively: another reader's copy may
   * be intact, but the manager cannot tell which), and its requesters are
   * answered FAIL.
   */
  function* forgetRank(t: Env, g: number): U {
    goneRanks.add(g);
    for (const [page, d] of dir) {
      for (let i = d.queue.length - 1; i >= 0; i--) if (d.queue[i].from === g) d.queue.splice(i, 1);
      const b = d.busy;
      if (b !== null && b.from === g && !b.write) {
        d.readers.delete(g);
        d.busy = null;
      } else if (d.owner === g || d.readers.has(g) || d.invalidating.has(g) || (b !== null && b.from === g)) {
        lost.set(page, g);
        if (b !== null && b.from !== g) yield* send(t, b.from, { kind: K.FAIL, a: page, from: g, slot: b.slot, mode: 0 });
        d.busy = null;
        d.invalidating.clear();
      }
      yield* startNext(t, page);
    }
  }

  function* serve(t: Env, ev: PtlEvent): U<boolean> {
    // The sender is the initiator the kernel reports (on a logical interface initiator_nid holds its rank),
    // never the message's own `from` field.
    const src = ev.initiator_nid;
    const m = unpack(ev.hdr_data);
    if (ev.type !== PTL.EVENT_PUT || !Number.isSafeInteger(src) || src < 0 || src >= size || m.slot >= SLOTS || goneRanks.has(src)) return drop();
    const isPage = m.a < pages;
    switch (m.kind) {
      case K.RREQ:
      case K.WREQ: {
        const d = isPage ? dir.get(m.a) : undefined;
        // One request per rank and page at a time (a rank's threads share one fetch of a page).
        if (d === undefined || d.busy?.from === src || d.queue.some((q) => q.from === src)) return drop();
        d.queue.push({ write: m.kind === K.WREQ, from: src, slot: m.slot });
        yield* startNext(t, m.a);
        return true;
      }
      case K.FETCH: {
        if (!isPage || src !== managerOf(m.a) || m.from >= size || rights[m.a] === NONE || m.mode > INVALIDATE) return drop();
        // Stop local writes first, copy the page out, then give up what the requester needs.
        if (rights[m.a] === WRITE) yield* protect(t, m.a, READ);
        const slot = nextSend;
        nextSend = (nextSend + 1) % SEND_SLOTS;
        yield* t.mem.store(outbox + slot * PAGE, yield* t.mem.load(base + m.a * PAGE, PAGE));
        if (m.mode === INVALIDATE) {
          yield* protect(t, m.a, NONE);
          c.invalidations++;
        }
        yield* send(t, m.from, { kind: K.DATA, a: m.a, from: rank, slot: m.slot, mode: m.mode === INVALIDATE ? WRITE : READ }, slot);
        return true;
      }
      case K.INV:
        if (!isPage || src !== managerOf(m.a)) return drop();
        yield* protect(t, m.a, NONE);
        c.invalidations++;
        yield* send(t, src, { kind: K.INV_ACK, a: m.a, from: rank, slot: 0, mode: 0 });
        return true;
      case K.INV_ACK: {
        const d = isPage ? dir.get(m.a) : undefined;
        if (d === undefined || d.busy === null || !d.invalidating.delete(src)) return drop();
        if (d.invalidating.size === 0) yield* finishWrite(t, m.a);
        return true;
      }
      case K.DATA:
      case K.GRANT:
        if (!isPage || awaiting[m.slot] !== `p${m.a}` || (m.kind === K.GRANT && src !== managerOf(m.a)) || (m.mode !== READ && m.mode !== WRITE)) return drop();
        yield* wake(t, m.slot, (m.kind === K.DATA ? 0x100 : 0x200) | m.mode);
        return true;
      case K.ACK: {
        const d = isPage ? dir.get(m.a) : undefined;
        if (d === undefined || d.busy === null || d.busy.from !== src || d.invalidating.size > 0) return drop();
        d.busy = null;
        yield* startNext(t, m.a);
        return true;
      }
      case K.LOCK: {
        if (m.a >= USER_DSM_LOCKS || m.a % size !== rank) return drop();
        const l = locks.get(m.a) ?? { holder: -1, waiters: [] };
        if (l.holder === src || l.waiters.some((w) => w.from === src)) return drop();
        locks.set(m.a, l);
        if (l.holder >= 0) l.waiters.push({ from: src, slot: m.slot });
        else {
          l.holder = src;
          yield* send(t, src, { kind: K.LOCK_GRANT, a: m.a, from: rank, slot: m.slot, mode: 0 });
        }
        return true;
      }
      case K.UNLOCK: {
        const l = locks.get(m.a);
        if (l === undefined || l.holder !== src) return drop();
        const next = l.waiters.shift();
        l.holder = next?.from ?? -1;
        if (next !== undefined) yield* send(t, next.from, { kind: K.LOCK_GRANT, a: m.a, from: rank, slot: next.slot, mode: 0 });
        return true;
      }
      case K.LOCK_GRANT:
        if (m.a >= USER_DSM_LOCKS || src !== m.a % size || awaiting[m.slot] !== `l${m.a}`) return drop();
        yield* wake(t, m.slot, 1);
        return true;
      case K.BAR_GO:
        if (src !== 0 || awaiting[m.slot] !== 'b') return drop();
        yield* wake(t, m.slot, 1);
        return true;
      case K.BAR_ARRIVE:
        if (rank !== 0 || arrived.has(src)) return drop();
        arrived.add(src);
        barrierWaiters.push({ from: src, slot: m.slot });
        if (arrived.size === size) {
          arrived.clear();
          for (const w of barrierWaiters.splice(0)) yield* send(t, w.from, { kind: K.BAR_GO, a: 0, from: rank, slot: w.slot, mode: 0 });
        }
        return true;
      case K.FAIL:
        if (!isPage || src !== managerOf(m.a) || awaiting[m.slot] !== `p${m.a}` || m.from >= size) return drop();
        yield* wake(t, m.slot, 0x400 | (m.from << 16));
        return true;
      case K.GONE: {
        if (m.a >= size || m.a === rank || goneRanks.has(m.a)) return drop();
        // Another rank's word is not enough to drop a rank: probe it from here.
        if ((yield* probe(ctx(t).P, m.a)) === null) return drop();
        yield* forgetRank(t, m.a);
        return true;
      }
      case K.STOP:
        return src !== rank ? drop() : false;
      default:
        return drop();
    }
  }

  const service: ThreadHandle = yield* env.spawn(function* (t) {
    const tp = ctx(t).P;
    if (mode === 'thread') yield* sc(t.sys.raw(SYS.lwk_sched_urgent, 1));
    for (;;) {
      const r = mode === 'thread' ? yield* sc(tp.PtlEQWait(eq.eq)) : yield* sc(tp.PtlEQGet(eq.eq));
      if (r.rc === PTL.EQ_EMPTY) {
        yield* t.compute(pollCycles);
        continue;
      }
      if ((r.rc !== PTL.OK && r.rc !== PTL.EQ_DROPPED) || r.event === null) throw new DsmError(`dsm: rank ${rank}'s event queue failed with PTL code ${r.rc}`);
      // A full queue lost an event: only a flood from a member of the job (the entries take the job's uid
      // only) fills it, and a protocol message lost with it leaves its waiter waiting, as a member that
      // never answers would; the service goes on and counts it.
      if (r.rc === PTL.EQ_DROPPED) c.dropped++;
      if (mode === 'thread') c.switches++;
      if (!(yield* serve(t, r.event))) return 0;
    }
  });

  // ---- the fault handler: runs on the faulting thread ----

  yield* env.onFault(function* (address, write, t) {
    const page = Math.floor((address - base) / PAGE);
    if (address < base || page >= pages) throw new DsmError(`segmentation fault at 0x${address.toString(16)} (${write ? 'write' : 'read'}), outside the DSM region`);
    c.faults++;
    c.crossings++; // the fault into the kernel (which upcalls this handler)
    if (write) c.writeFaults++;
    else c.readFaults++;
    if ((write && rights[page] === WRITE) || (!write && rights[page] !== NONE)) return; // another thread installed it meanwhile
    if (fetching.has(page)) {
      // Another thread of this process is fetching it: wait for that, then retry the access.
      while (fetching.has(page)) yield* sc(t.sys.nanosleep(1000));
      return;
    }
    fetching.add(page);
    const { slot } = ctx(t);
    awaiting[slot] = `p${page}`;
    yield* send(t, managerOf(page), { kind: write ? K.WREQ : K.RREQ, a: page, from: rank, slot, mode: 0 });
    const v = yield* waitWord(t, slot, `page ${page} (0x${(base + page * PAGE).toString(16)})`, managerOf(page), page);
    if ((v & 0x400) !== 0) throw new DsmError(`dsm: page ${page} (0x${(base + page * PAGE).toString(16)}) is lost: rank ${v >>> 16}, which held it, has ended`);
    const granted = v & 0xff;
    if ((v & 0x100) !== 0) {
      // The page's contents arrived in this thread's inbox page: copy them in.
      if (rights[page] !== WRITE) yield* protect(t, page, WRITE);
      yield* t.mem.store(base + page * PAGE, yield* t.mem.load(inbox + slot * PAGE, PAGE));
    }
    else if (rights[page] === NONE) throw new DsmError(`dsm: rank ${rank} was granted page ${page} without its contents, which it does not hold`);
    if (rights[page] !== granted) yield* protect(t, page, granted);
    fetching.delete(page);
    yield* send(t, managerOf(page), { kind: K.ACK, a: page, from: rank, slot, mode: 0 });
  });

  // Nobody sends a DSM message before every rank can receive it.
  yield* join();

  const lockId = (id: number) => {
    if (!Number.isSafeInteger(id) || id < 0 || id >= USER_DSM_LOCKS) throw new DsmError(`dsm: lock ids are 0 to ${USER_DSM_LOCKS - 1}, got ${id}`);
    return id;
  };
  let open = true;
  const isOpen = () => {
    if (!open) throw new DsmError('dsm: the region is detached');
  };
  /** The locks this rank holds: a lock it holds or an unlock of one it does not is refused here, as the kernel DSM's dsm_lock and dsm_unlock refuse them on the rank's node (-EBUSY, -EPERM). */
  const held = new Set<number>();

  const dsm: Dsm = {
    base,
    bytes,
    *lock(id) {
      isOpen();
      if (held.has(lockId(id))) throw callFailed('lock', `lock(${id})`, ERRNO.EBUSY);
      const { slot } = ctx(env);
      awaiting[slot] = `l${id}`;
      yield* send(env, id % size, { kind: K.LOCK, a: id, from: rank, slot, mode: 0 });
      yield* waitWord(env, slot, `lock ${id}`, id % size);
      held.add(id);
    },
    *unlock(id) {
      isOpen();
      if (!held.delete(lockId(id))) throw callFailed('unlock', `unlock(${id})`, ERRNO.EPERM);
      yield* send(env, id % size, { kind: K.UNLOCK, a: id, from: rank, slot: 0, mode: 0 });
    },
    *barrier() {
      isOpen();
      const { slot } = ctx(env);
      awaiting[slot] = 'b';
      yield* send(env, 0, { kind: K.BAR_ARRIVE, a: 0, from: rank, slot, mode: 0 });
      yield* waitWord(env, slot, 'the barrier', 0);
    },
    *detach() {
      isOpen();
      // The locks still held go to their next waiters, as dsm_detach hands them on (a waiter is not in the barrier).
      for (const id of held) yield* send(env, id % size, { kind: K.UNLOCK, a: id, from: rank, slot: 0, mode: 0 });
      held.clear();
      // Everyone stops using the region before any service thread stops answering.
      yield* dsm.barrier();
      open = false;
      yield* send(env, rank, { kind: K.STOP, a: 0, from: rank, slot: 0, mode: 0 });
      yield* env.join(service);
      // Give everything back, as dsm_detach does: an access to the region is an ordinary page fault again, no
      // put reaches this process's DSM entries, and a second openDsm starts from nothing.
      yield* sys.setFaultHandler(0);
      yield* teardown(env, app);
      for (const [va, len] of [[base, pages * PAGE], [inbox, SLOTS * PAGE], [outbox, SEND_SLOTS * PAGE], [words, PAGE], [service.stack, THREAD_STACK]]) {
        const rc = yield* sys.munmap(va, len);
        if (rc < 0) throw new DsmError(`dsm: detach: munmap of 0x${va.toString(16)} failed with ${errnoName(-rc)}`);
      }
    },
    *stats(): U<DsmStats> {
      yield* env.compute(0);
      return { ...c };
    },
  };
  return dsm;
}
