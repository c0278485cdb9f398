// What the Active Messages layer needs from a network: send a header and
// some bytes to a rank, and hand over received messages one at a time in
// arrival order. Two implementations: over U-Net (user level, no syscall on
// the data path: unet.ts) and over Portals (a trap per send and per
// poll, the kernel's receive interrupt: portals.ts).

import type { U } from '../ops.ts';

export interface AmIncoming {
  /** The AM header and any data, as received; null when the network dropped the data (U-Net: no receive buffer). */
  readonly bytes: Uint8Array | null;
  /** The rank it came from, as the transport knows it (not as the message claims). */
  readonly src: number;
}

export interface AmTransport {
  readonly name: 'unet' | 'portals';
  readonly rank: number;
  readonly size: number;
  /** Largest header + data one message carries. */
  readonly maxMessage: number;
  /** Queues `header` followed by `len` bytes read at user address `data`; waits (never for other messages) while the network has no room. */
  send(dest: number, header: Uint8Array, data: number, len: number): U;
  /** The oldest message not yet taken, copied out of the network's buffers (which go back to the network), or null. */
  poll(): U<AmIncoming | null>;
  /** Messages to this rank the network has dropped so far without handing them over (overload: no flow control), as far as it knows. */
  lost(): U<number>;
  /** Waits until every queued send has left (before exit). */
  flush(): U;
  /**
   * What the network has said of sends so far: how many came back
   * undelivered because their target rank had gone (exited), and which
   * ranks those were. Optional: over Portals, Active Messages are puts
   * without acknowledgment, so the network never says (see ACTIVE-MESSAGES.md).
   */
  gone?(): U<AmGone>;
}

export interface AmGone {
  readonly undelivered: number;
  /** The ranks, in the order they were found gone. */
  readonly ranks: readonly number[];
}
