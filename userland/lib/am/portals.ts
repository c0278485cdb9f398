// Active Messages over Portals: every message is a PtlPut (a trap) into one
// of two locally managed receive rings of the target (Portals fills a ring
// front to back; when less than one message fits, it unlinks the ring and
// the next takes over while this one is re-appended). A poll is PtlEQGet
// (another trap); the kernel matched and deposited the message in its
// receive interrupt. A ring's AUTO_UNLINK event may come before the PUT
// event of the message that filled it (the kernel unlinks when it matches
// the header, and posts PUT when the data is in), so a ring is re-appended
// only once it is unlinked and its last message has been taken. The send buffers are a ring of slots over one MD whose
// counter tells when a slot may be written again.
//
// Lost messages (no flow control) are counted from what Portals tells the
// receiver: a message that found no ring (both full) is dropped by the
// kernel and counted in the NI's PTL_SR_DROP_COUNT; a message deposited
// while the EQ was full lost its event (PtlEQGet says PTL_EQ_DROPPED, not
// how many), so the rings count their deposits on a counting event too, and
// the deposits whose PUT event never came are the lost ones (lost()).

import type { Env } from '../runtime.ts';
import type { U } from '../ops.ts';
import { PTL, type PtlEvent } from '../portals.ts';
import { type PtlApp, barrier, setup } from '../ptlapp.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../sys.ts';
import { AmError } from './am.ts';
import type { AmIncoming, AmTransport } from './transport.ts';
import { AM_HEADER_BYTES } from './wire.ts';

/** The match bits of Active Messages on portal table entry 0 (the apps' data and control entries use 1 to 3). */
export const AM_BITS = 0x414dn;
/** user_ptr of receive ring i is AM_RING_PTR + i: it tells the ring's events from the set-up's. */
const AM_RING_PTR = 0x414d00;
const RINGS = 2;

export interface AmPortalsOptions {
  /** Bytes per receive ring; default 256 KiB. */
  readonly ringBytes?: number;
  /** Send slots (messages that may be leaving at once); default 32. */
  readonly sendSlots?: number;
  /** Largest data of one message; default 4096. */
  readonly maxData?: number;
}

export function* amOverPortals(env: Env, opts: AmPortalsOptions = {}): U<AmTransport> {
  const maxMessage = Math.ceil((AM_HEADER_BYTES + (opts.maxData ?? 4096)) / 64) * 64;
  const ringBytes = Math.max(opts.ringBytes ?? 256 << 10, 4 * maxMessage);
  const slots = opts.sendSlots ?? 32;
  const app = yield* setup(env, 4096);
  const check = (what: string, rc: number) => {
    if (rc !== PTL.OK) throw new AmError(`AM over Portals: ${what} failed with PTL code ${rc}`);
  };
  const map = (len: number) => env.sys.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  const rings: number[] = [];
  for (let i = 0; i < RINGS; i++) rings.push(yield* map(ringBytes));
  // Counts every deposit into a ring, whether or not its event found room in the EQ.
  const ringCt = yield* app.P.PtlCTAlloc(app.ni);
  check('PtlCTAlloc', ringCt.rc);
  const drops = yield* app.P.PtlNIStatus(app.ni, PTL.SR_DROP_COUNT);
  check('PtlNIStatus', drops.rc);
  const t = new PortalsTransport(env, app, maxMessage, ringBytes, rings, slots, ringCt.ct, drops.status);
  for (let i = 0; i < RINGS; i++) check('PtlMEAppend', yield* t.append(i));
  const ct = yield* app.P.PtlCTAlloc(app.ni);
  check('PtlCTAlloc', ct.rc);
  const sendVa = yield* map(slots * maxMessage);
  const md = yield* app.P.PtlMDBind(app.ni, { start: sendVa, length: slots * maxMessage, ct_handle: ct.ct, options: PTL.MD_EVENT_CT_SEND | PTL.MD_EVENT_SEND_DISABLE });
  check('PtlMDBind', md.rc);
  t.bindSend(sendVa, md.md, ct.ct);
  // Nobody sends before every rank's rings are in place.
  yield* barrier(env, app);
  return t;
}

class PortalsTransport implements AmTransport {
  readonly name = 'portals';
  readonly rank: number;
  readonly size: number;
  private sendVa = 0;
  private md = 0;
  private ct = 0;
  /** Puts issued so far. */
  private sent = 0;
  /** Per ring: unlinked by Portals, and the end of the messages taken from it so far. */
  private readonly unlinked: boolean[] = [];
  private readonly takenEnd: number[] = [];
  /** Per ring: the ME's handle (to unlink it when its state is lost). */
  private readonly handles: number[] = [];
  /** The EQ overflowed (PTL_EQ_DROPPED): ring events may be gone, so the rings' state is rebuilt once the EQ is drained. */
  private eqOverflowed = false;
  /** Ring PUT events poll has taken so far. */
  private putEvents = 0;
  /** Deposits whose PUT event was dropped, as counted at the last count. */
  private eventsLost = 0;
  /** Messages may have been lost since the last count: the EQ overflowed, or both rings were unlinked (no match). */
  private suspect = false;
  /** Messages the NI dropped since set-up (PTL_SR_DROP_COUNT), at the last count. */
  private noMatch = 0;

  constructor(
    private readonly env: Env,
    private readonly app: PtlApp,
    readonly maxMessage: number,
    private readonly ringBytes: number,
    private readonly rings: readonly number[],
    private readonly slots: number,
    private readonly ringCt: number,
    private readonly dropBase: number,
  ) {
    this.rank = app.rank;
    this.size = app.size;
  }

  bindSend(va: number, md: number, ct: number): void {
    this.sendVa = va;
    this.md = md;
    this.ct = ct;
  }

  /** Links receive ring i (again), empty. */
  *append(i: number): U<number> {
    this.unlinked[i] = false;
    this.takenEnd[i] = 0;
    const me = { start: this.rings[i], length: this.ringBytes, options: PTL.ME_OP_PUT | PTL.ME_MANAGE_LOCAL | PTL.ME_EVENT_LINK_DISABLE | PTL.ME_EVENT_CT_COMM, ct_handle: this.ringCt, match_bits: AM_BITS, min_free: this.maxMessage, uid: this.app.uid };
    const r = yield* this.app.P.PtlMEAppend(this.app.ni, 0, me, PTL.PRIORITY_LIST, AM_RING_PTR + i);
    this.handles[i] = r.handle;
    return r.rc;
  }

  *send(dest: number, header: Uint8Array, data: number, len: number): U {
    const { env, app } = this;
    // Slot `sent % slots` is free once the put that last used it has been sent.
    if (this.sent >= this.slots) yield* this.waitSent(this.sent - this.slots + 1);
    const off = (this.sent % this.slots) * this.maxMessage;
    yield* env.mem.store(this.sendVa + off, header);
    if (len > 0) yield* env.mem.store(this.sendVa + off + header.length, yield* env.mem.load(data, len));
    const rc = yield* app.P.PtlPut(this.md, off, header.length + len, PTL.NO_ACK_REQ, { rank: dest }, 0, AM_BITS, 0, 0, 0);
    if (rc !== PTL.OK) throw new AmError(`rank ${this.rank}: PtlPut to rank ${dest} failed with PTL code ${rc}`);
    this.sent++;
  }

  private *waitSent(n: number): U {
    const r = yield* this.app.P.PtlCTWait(this.ct, n);
    if (r.rc !== PTL.OK) throw new AmError(`rank ${this.rank}: PtlCTWait failed with PTL code ${r.rc}`);
    if (r.failure > 0) throw new AmError(`rank ${this.rank}: ${r.failure} Active Message put(s) failed to leave`);
  }

  *poll(): U<AmIncoming | null> {
    for (;;) {
      const ev = yield* this.next();
      if (ev === null) {
        if (this.eqOverflowed) yield* this.relink();
        return null;
      }
      const ring = Number(ev.user_ptr) - AM_RING_PTR;
      if (ev.type === PTL.EVENT_AUTO_UNLINK) {
        this.unlinked[ring] = true;
        // A full ring: while the other fills too, a message finds no match and is dropped (PTL_SR_DROP_COUNT).
        this.suspect = true;
        yield* this.recycle(ring);
        continue;
      }
      if (ev.type !== PTL.EVENT_PUT) continue;
      // On the job's logical NI the kernel fills initiator_nid with the sender's rank (its own record, not the message's claim).
      const src = ev.initiator_nid;
      this.takenEnd[ring] = Math.max(this.takenEnd[ring], ev.start + ev.mlength - this.rings[ring]);
      // A message cut short is no Active Message: the layer counts it as lost.
      const bytes = ev.ni_fail_type === PTL.NI_OK && ev.mlength === ev.rlength ? yield* this.env.mem.load(ev.start, ev.mlength) : null;
      yield* this.recycle(ring);
      // The kernel names the sender by its rank in this job's map: PTL_RANK_ANY for a process outside the job,
      // even of the same uid, which the AM layer drops and counts as from no rank of the job.
      return { bytes, src };
    }
  }

  /**
   * After an EQ overflow a ring's AUTO_UNLINK (or the PUT that ends it) may
   * be lost, and without it the ring would never be re-appended: once the EQ
   * is empty, every ring is unlinked (a no-op for one Portals already
   * unlinked) and appended afresh. Messages whose events were lost are lost.
   */
  private *relink(): U {
    this.eqOverflowed = false;
    for (let i = 0; i < RINGS; i++) {
      yield* this.app.P.PtlMEUnlink(this.handles[i]);
      const rc = yield* this.append(i);
      if (rc !== PTL.OK) throw new AmError(`rank ${this.rank}: re-appending receive ring ${i} failed with PTL code ${rc}`);
    }
  }

  /** Re-appends ring i once Portals unlinked it and the message that filled it (past the last min_free) has been taken. */
  private *recycle(i: number): U {
    if (!this.unlinked[i] || this.takenEnd[i] <= this.ringBytes - this.maxMessage) return;
    const rc = yield* this.append(i);
    if (rc !== PTL.OK) throw new AmError(`rank ${this.rank}: re-appending receive ring ${i} failed with PTL code ${rc}`);
  }

  /** The oldest event of a receive ring: kept ones first (the set-up's waits keep what is not theirs), then the EQ's. */
  private *next(): U<PtlEvent | null> {
    const mine = (e: PtlEvent) => e.user_ptr >= BigInt(AM_RING_PTR) && e.user_ptr < BigInt(AM_RING_PTR + RINGS);
    const kept = this.app.backlog.findIndex(mine);
    if (kept >= 0) return this.taken(this.app.backlog.splice(kept, 1)[0]);
    for (;;) {
      const r = yield* this.app.P.PtlEQGet(this.app.eq);
      if (r.rc === PTL.EQ_EMPTY) return null;
      if (r.rc === PTL.EQ_DROPPED) this.eqOverflowed = this.suspect = true;
      if (r.event === null) throw new AmError(`rank ${this.rank}: PtlEQGet failed with PTL code ${r.rc}`);
      if (mine(r.event)) return this.taken(r.event);
      this.app.backlog.push(r.event);
    }
  }

  private taken(e: PtlEvent): PtlEvent {
    if (e.type === PTL.EVENT_PUT) this.putEvents++;
    return e;
  }

  /**
   * Messages to this rank Portals dropped (no ring had room: the NI's
   * PTL_SR_DROP_COUNT since set-up, which counts every portal of this NI)
   * plus ring deposits whose PUT event was dropped with the EQ full: the
   * rings' counting event less the PUT events taken. Counted only when
   * Portals has said something may be lost (PTL_EQ_DROPPED, a ring
   * unlinked because full) and until the rings are back, since each count
   * costs traps. The count reads the counter,
   * drains the EQ into the backlog (poll takes from there first, in order),
   * and reads the counter again: equal, nothing arrived in between and the
   * difference is exact (the kernel posts a deposit's event before it
   * counts it); not equal, the count is kept for the next call.
   */
  *lost(): U<number> {
    if (!this.suspect) return this.eventsLost + this.noMatch;
    const { P } = this.app;
    const ring = (e: PtlEvent) => e.user_ptr >= BigInt(AM_RING_PTR) && e.user_ptr < BigInt(AM_RING_PTR + RINGS);
    const before = yield* this.deposits();
    for (;;) {
      const r = yield* P.PtlEQGet(this.app.eq);
      if (r.rc === PTL.EQ_EMPTY) break;
      if (r.rc === PTL.EQ_DROPPED) this.eqOverflowed = true;
      if (r.event === null) throw new AmError(`rank ${this.rank}: PtlEQGet failed with PTL code ${r.rc}`);
      this.app.backlog.push(r.event);
    }
    const waiting = this.app.backlog.filter((e) => ring(e) && e.type === PTL.EVENT_PUT).length;
    const after = yield* this.deposits();
    const drops = yield* P.PtlNIStatus(this.app.ni, PTL.SR_DROP_COUNT);
    if (drops.rc !== PTL.OK) throw new AmError(`rank ${this.rank}: PtlNIStatus failed with PTL code ${drops.rc}`);
    this.noMatch = (drops.status - this.dropBase) >>> 0;
    if (after === before) {
      this.eventsLost = Math.max(this.eventsLost, before - this.putEvents - waiting);
      this.suspect = this.unlinked.some((u) => u);
    }
    return this.eventsLost + this.noMatch;
  }

  /** Deposits into the rings so far (their counting event). */
  private *deposits(): U<number> {
    const ct = yield* this.app.P.PtlCTGet(this.ringCt);
    if (ct.rc !== PTL.OK) throw new AmError(`rank ${this.rank}: PtlCTGet failed with PTL code ${ct.rc}`);
    return ct.success;
  }

  *flush(): U {
    if (this.sent > 0) yield* this.waitSent(this.sent);
  }
}
