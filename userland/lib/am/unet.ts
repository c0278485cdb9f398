// Active Messages over U-Net: one endpoint per rank, channel r leads to rank
// r. A send copies header and data into the send buffer of its queue slot
// and rings the doorbell; a poll reads the receive queue in the segment.
// No system call on the data path, and no interrupt. Only what arrives on a
// channel this rank opened to a rank of its job, not by direct access, is an
// Active Message: the rest (another job of the same user on the unopened
// channel to itself, a direct deposit) is counted as lost.

import type { Env } from '../runtime.ts';
import type { U } from '../ops.ts';
import { ERRNO } from '../abi.gen.ts';
import { UNET_FLAG, UNET_LIMITS, UNET_STATUS, type UnetEndpoint, UnetError, type UnetMessage, type UnetPeer, unetBuffer, unetClose, unetCreate, unetDrops, unetFlush, unetOpen, unetPoll, unetRelease, unetSend, unetSendStatus, unetSendsPending } from '../unet.ts';
import { UNET_HDR } from '../unet.gen.ts';
import { AmError } from './am.ts';
import type { AmGone, AmIncoming, AmTransport } from './transport.ts';
import { AM_HEADER_BYTES } from './wire.ts';

/**
 * How long set-up (every open and the barrier, together) waits for the other
 * ranks: 5 s of simulated time, half `margay run`'s default time limit (10 s),
 * so that under the defaults a rank that never comes, or exits during set-up,
 * is named in an AmError instead of the run ending INCOMPLETE at the limit.
 * A late rank is milliseconds late (a job's load), not seconds.
 */
export const AM_UNET_SETUP_WAIT_NS = 5e9;
const SETUP_WAIT_NS = AM_UNET_SETUP_WAIT_NS;
/** How long the set-up barrier polls without sleeping before it backs off. */
const BARRIER_SPIN_NS = 100_000;

export interface AmUnetOptions {
  /** Slots per queue (how many messages may wait at a receiver); default 64. */
  readonly entries?: number;
  /** Largest data of one message; default 4096. */
  readonly maxData?: number;
  /** Interrupt-driven: a message's arrival interrupts a computation and runs the handlers (amInterrupts). */
  readonly interrupt?: boolean;
}

export function* amOverUnet(env: Env, opts: AmUnetOptions = {}): U<AmTransport> {
  const rank = yield* env.sys.getrank();
  const size = yield* env.sys.getsize();
  if (size > UNET_LIMITS.MAX_CHANNELS) throw new AmError(`AM over U-Net opens a channel to every rank: at most ${UNET_LIMITS.MAX_CHANNELS} ranks, not ${size}`);
  const bufBytes = Math.ceil((AM_HEADER_BYTES + (opts.maxData ?? 4096)) / 64) * 64;
  const ep = yield* unetCreate(env, { entries: opts.entries ?? 64, bufBytes, userUpcall: opts.interrupt ?? false });
  const map = yield* env.sys.jobMap();
  // SPMD: every rank's endpoint has the same handle, and channel r leads to rank r.
  const foreignBefore = new Map<number, number>();
  // One deadline for the whole set-up, so the opens and the barrier together wait no longer than SETUP_WAIT_NS.
  const deadline = (yield* env.sys.clockNs()) + SETUP_WAIT_NS;
  for (let r = 0; r < size; r++) if (r !== rank) yield* openToRank(env, ep, rank, r, { nid: map[r].nid, pid: map[r].pid, ep: ep.id, chan: rank }, foreignBefore, deadline);
  const t = new UnetTransport(env, ep, rank, size, bufBytes, foreignBefore);
  yield* t.setupBarrier(deadline);
  return t;
}

/**
 * Opens channel r to rank r. The kernel lets any process of the same uid open
 * a channel of this endpoint (it checks the uid only), so another job of the
 * user may have taken channel r first (EBUSY): that end is not the job's, so
 * it is closed and the open tried again; the poll only ever believes the
 * channels opened here. What that process sent on channel r is already in
 * the receive queue, ahead of everything rank r can send once the channel
 * is ours: `foreignBefore` keeps, per channel, the receive-queue position
 * from which on channel r is rank r's.
 */
function* openToRank(env: Env, ep: UnetEndpoint, rank: number, r: number, peer: UnetPeer, foreignBefore: Map<number, number>, deadline: number): U {
  for (let tries = 0; ; tries++) {
    try {
      // A rank that reaches its set-up late is waited for, up to the set-up's deadline.
      yield* unetOpen(env, ep, r, peer, { untilNs: deadline });
      return;
    } catch (e) {
      if (e instanceof UnetError && e.errno === ERRNO.ECONNREFUSED) throw new AmError(`rank ${rank}: rank ${r} did not open its end of AM over U-Net in ${SETUP_WAIT_NS / 1e6} ms of simulated time (it never came, or has exited)`);
      if (!(e instanceof UnetError) || e.errno !== ERRNO.EBUSY || tries >= 8) throw e;
      yield* unetClose(env, ep, r);
      // Closed: nothing more arrives on the taken end; what did is below the tail now.
      foreignBefore.set(r, yield* env.mem.loadU32(ep.va + UNET_HDR.RECV_TAIL));
    }
  }
}

/**
 * A set-up barrier message: 4 bytes, shorter than any Active Message's
 * header, so it can never be taken for one. The word is the round.
 */
const BARRIER_BYTES = 4;
const BARRIER_MAGIC = 0x42520000;

class UnetTransport implements AmTransport {
  readonly name = 'unet';
  /** Messages that came in during the set-up barrier, for the first polls. */
  private readonly held: AmIncoming[] = [];
  /** Send descriptors (counted from 0) whose status the NIC wrote and this rank has read. */
  private checked = 0;
  /** The rank each send slot's descriptor went to (the library's copy: no load to know it). */
  private readonly dests: number[] = [];
  /** Sends the NIC refused BAD_CHANNEL (the peer's end is closed: its rank has exited), and those ranks. */
  private undelivered = 0;
  private readonly goneRanks: number[] = [];

  constructor(
    private readonly env: Env,
    readonly ep: UnetEndpoint,
    readonly rank: number,
    readonly size: number,
    readonly maxMessage: number,
    /** Per channel, the receive-queue position before which it was another process's (openToRank). */
    private readonly foreignBefore: ReadonlyMap<number, number>,
  ) {}

  *send(dest: number, header: Uint8Array, data: number, len: number): U {
    const { env, ep } = this;
    const buf = yield* this.nextSendBuffer();
    yield* env.mem.store(ep.va + buf, header);
    if (len > 0) yield* env.mem.store(ep.va + buf + header.length, yield* env.mem.load(data, len));
    yield* this.ring(dest, buf, header.length + len);
  }

  /**
   * Set-up ends when every rank has opened its channels (as AM over Portals
   * ends in a barrier): a rank that went on at once could exit, and its
   * endpoint with it, while a slower rank was still opening the channel to
   * it. A dissemination barrier: in round k each rank tells rank+2^k and
   * hears from rank-2^k, so a receive queue holds at most one barrier
   * message a round however many ranks there are. An Active Message from a
   * rank already past the barrier is kept for the first polls.
   */
  *setupBarrier(deadline: number): U {
    const { env, ep, rank, size } = this;
    const heard = new Set<number>();
    for (let k = 0, dist = 1; dist < size; k++, dist *= 2) {
      yield* this.sendRaw((rank + dist) % size, words32(BARRIER_MAGIC + k));
      const begin = yield* env.sys.clockNs();
      let pause = BARRIER_SPIN_NS / 8;
      while (!heard.has(k)) {
        const m = yield* unetPoll(env, ep);
        if (m === null) {
          // Spin a while (the usual case: the others are a few us behind), then sleep ever longer up to the deadline.
          const waited = (yield* env.sys.clockNs()) - begin;
          if (waited < BARRIER_SPIN_NS) yield* env.compute(200);
          else if (begin + waited >= deadline) throw new AmError(`rank ${rank}: rank ${(rank - dist + size) % size} did not reach the end of AM over U-Net set-up in ${SETUP_WAIT_NS / 1e6} ms of simulated time`);
          else {
            yield* env.sys.nanosleep(Math.min(pause, deadline - begin - waited));
            pause = Math.min(2 * pause, Math.max(BARRIER_SPIN_NS, Math.floor(waited / 8)));
          }
          continue;
        }
        const round = yield* this.barrierRound(m);
        if (round !== null) {
          heard.add(round);
          yield* unetRelease(env, ep, m);
        } else this.held.push(yield* this.take(m));
      }
    }
    // The last round's message must leave before this rank may exit with its endpoint.
    yield* unetFlush(env, ep);
  }

  /** The round of a barrier message from a rank of the job, or null for anything else. */
  private *barrierRound(m: UnetMessage): U<number | null> {
    if (m.status !== UNET_STATUS.OK || m.len !== BARRIER_BYTES || (m.flags & UNET_FLAG.DIRECT) !== 0 || !this.opened(m.chan)) return null;
    const w = new DataView((yield* this.env.mem.load(this.ep.va + m.offset, BARRIER_BYTES)).buffer).getUint32(0, true);
    return w >= BARRIER_MAGIC && w < BARRIER_MAGIC + 32 ? w - BARRIER_MAGIC : null;
  }

  private *sendRaw(dest: number, bytes: Uint8Array): U {
    const buf = yield* this.nextSendBuffer();
    yield* this.env.mem.store(this.ep.va + buf, bytes);
    yield* this.ring(dest, buf, bytes.length);
  }

  /** The buffer of the next send slot, once the NIC has taken every earlier send of that slot. */
  private *nextSendBuffer(): U<number> {
    const { env, ep } = this;
    let pending: number;
    while ((pending = yield* unetSendsPending(env, ep)) >= ep.entries) yield* env.compute(50);
    // The slot about to be written holds a status not read yet: read every completed one first.
    if (((ep.sendTail - this.checked) >>> 0) >= ep.entries) yield* this.readStatuses((ep.sendTail - pending) >>> 0);
    return unetBuffer(ep, ep.sendTail % ep.entries);
  }

  private *ring(dest: number, buf: number, len: number): U {
    this.dests[this.ep.sendTail % this.ep.entries] = dest;
    if (!(yield* unetSend(this.env, this.ep, dest, buf, len))) throw new AmError(`rank ${this.rank}: the U-Net send queue refused a slot it had room for`);
  }

  /** Reads the statuses of the send descriptors the NIC has finished, up to `head`: one load each, once. */
  private *readStatuses(head: number): U {
    const { env, ep } = this;
    for (; this.checked !== head; this.checked = (this.checked + 1) >>> 0) {
      if ((yield* unetSendStatus(env, ep, this.checked)) !== UNET_STATUS.BAD_CHANNEL) continue;
      const dest = this.dests[this.checked % ep.entries];
      this.undelivered++;
      if (!this.goneRanks.includes(dest)) this.goneRanks.push(dest);
    }
  }

  *gone(): U<AmGone> {
    const pending = yield* unetSendsPending(this.env, this.ep);
    yield* this.readStatuses((this.ep.sendTail - pending) >>> 0);
    return { undelivered: this.undelivered, ranks: [...this.goneRanks] };
  }

  *poll(): U<AmIncoming | null> {
    const held = this.held.shift();
    if (held !== undefined) return held;
    const m = yield* unetPoll(this.env, this.ep);
    if (m === null) return null;
    return yield* this.take(m);
  }

  /** Reads and releases a received message: its bytes if it is an Active Message of this job. */
  private *take(m: UnetMessage): U<AmIncoming> {
    const { env, ep } = this;
    // AM never sends by direct access, and listens only on the channels it opened itself (to the job's other
    // ranks): anything else is no Active Message of this job, and goes as lost (src -1).
    const ours = (m.flags & UNET_FLAG.DIRECT) === 0 && this.opened(m.chan);
    const bytes = m.status === UNET_STATUS.OK && ours ? yield* env.mem.load(ep.va + m.offset, m.len) : null;
    yield* unetRelease(env, ep, m);
    // Channel r leads to rank r, and the NIC delivers on a channel only what its peer sent: the sender is m.chan.
    return { bytes, src: ours ? m.chan : -1 };
  }

  /** The segment's DROPS word: messages the NIC dropped with the receive queue full. */
  *lost(): U<number> {
    return yield* unetDrops(this.env, this.ep);
  }

  /**
   * Whether the message at the head of the receive queue came on a channel this
   * rank opened (one to every other rank of its job, none to itself) while it
   * was this rank's: not before openToRank took it back from another process.
   */
  private opened(chan: number): boolean {
    if (!(chan < this.size && chan !== this.rank)) return false;
    const from = this.foreignBefore.get(chan);
    return from === undefined || ((this.ep.recvHead - from) | 0) >= 0;
  }

  *flush(): U {
    yield* unetFlush(this.env, this.ep);
  }
}

function words32(w: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, w >>> 0, true);
  return b;
}
