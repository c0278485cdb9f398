// Active Messages over U-Net: one endpoint per rank, channel r leads to rank
// r. A send copies header and data into the send buffer of its queue slot
// and rings the doorbell; a poll reads the receive queue in the segment.
// No system call on the data path, and no interrupt.

import type { Env } from '../runtime.ts';
import type { U } from '../ops.ts';
import { UNET_LIMITS, UNET_STATUS, type UnetEndpoint, unetBuffer, unetCreate, unetFlush, unetOpen, unetPoll, unetRelease, unetSend, unetSendsPending } from '../unet.ts';
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
  for (let r = 0; r < size; r++) if (r !== rank) yield* unetOpen(env, ep, r, { nid: map[r].nid, pid: map[r].pid, ep: ep.id, chan: rank });
  return new UnetTransport(env, ep, rank, size, bufBytes);
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
    const bytes = m.status === UNET_STATUS.OK ? yield* env.mem.load(ep.va + m.offset, m.len) : null;
    yield* unetRelease(env, ep, m);
    // Channel r leads to rank r, and the NIC delivers on a channel only what its peer sent: the sender is m.chan.
    return { bytes, src: m.chan };
  }

  *flush(): U {
    yield* unetFlush(this.env, this.ep);
  }
}
