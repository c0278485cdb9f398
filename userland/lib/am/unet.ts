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
import { UNET_FLAG, UNET_LIMITS, UNET_STATUS, type UnetEndpoint, UnetError, type UnetPeer, unetBuffer, unetClose, unetCreate, unetDrops, unetFlush, unetOpen, unetPoll, unetRelease, unetSend, unetSendsPending } from '../unet.ts';
import { AmError } from './am.ts';
import type { AmIncoming, AmTransport } from './transport.ts';
import { AM_HEADER_BYTES } from './wire.ts';

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
  for (let r = 0; r < size; r++) if (r !== rank) yield* openToRank(env, ep, r, { nid: map[r].nid, pid: map[r].pid, ep: ep.id, chan: rank });
  return new UnetTransport(env, ep, rank, size, bufBytes);
}

/**
 * Opens channel r to rank r. The kernel lets any process of the same uid open
 * a channel of this endpoint (it checks the uid only), so another job of the
 * user may have taken channel r first (EBUSY): that end is not the job's, so
 * it is closed and the open tried again; the poll only ever believes the
 * channels opened here.
 */
function* openToRank(env: Env, ep: UnetEndpoint, r: number, peer: UnetPeer): U {
  for (let tries = 0; ; tries++) {
    try {
      yield* unetOpen(env, ep, r, peer);
      return;
    } catch (e) {
      if (!(e instanceof UnetError) || e.errno !== ERRNO.EBUSY || tries >= 8) throw e;
      yield* unetClose(env, ep, r);
    }
  }
}

class UnetTransport implements AmTransport {
  readonly name = 'unet';

  constructor(
    private readonly env: Env,
    readonly ep: UnetEndpoint,
    readonly rank: number,
    readonly size: number,
    readonly maxMessage: number,
  ) {}

  *send(dest: number, header: Uint8Array, data: number, len: number): U {
    const { env, ep } = this;
    // The buffer of the next slot is free once the NIC has taken every earlier send of that slot.
    while ((yield* unetSendsPending(env, ep)) >= ep.entries) yield* env.compute(50);
    const buf = unetBuffer(ep, ep.sendTail % ep.entries);
    yield* env.mem.store(ep.va + buf, header);
    if (len > 0) yield* env.mem.store(ep.va + buf + header.length, yield* env.mem.load(data, len));
    if (!(yield* unetSend(env, ep, dest, buf, header.length + len))) throw new AmError(`rank ${this.rank}: the U-Net send queue refused a slot it had room for`);
  }

  *poll(): U<AmIncoming | null> {
    const { env, ep } = this;
    const m = yield* unetPoll(env, ep);
    if (m === null) return null;
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

  /** Channels this rank opened: one to every other rank of its job, none to itself. */
  private opened(chan: number): boolean {
    return chan < this.size && chan !== this.rank;
  }

  *flush(): U {
    yield* unetFlush(this.env, this.ep);
  }
}
