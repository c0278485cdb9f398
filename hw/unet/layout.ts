// The U-Net communication segment as the NIC reads and writes it: a header
// of queue indices, then the send, receive and free descriptor queues, then
// message buffers the owner manages. Every field is a little-endian u32.
// This table is the one source of truth for the layout; the user library
// takes it from userland/lib/unet.gen.ts, generated from here.
//
// Indices are free-running counters (wrapping at 2^32): a queue with `entries`
// slots holds slot `i % entries` for counter value i; it is empty when
// head == tail and full when tail - head == entries.

/** Byte offsets of the header words. */
export const UNET_HDR = {
  /** Send queue tail, written by the owner: the doorbell (a store here starts the NIC). */
  SEND_TAIL: 0,
  /** Send queue head, written by the NIC when it has read a descriptor's buffer. */
  SEND_HEAD: 4,
  /** Receive queue tail, written by the NIC when it posts a received message. */
  RECV_TAIL: 8,
  /** Receive queue head, written by the owner as it consumes received messages. */
  RECV_HEAD: 12,
  /** Free queue tail, written by the owner as it hands buffers to the NIC. */
  FREE_TAIL: 16,
  /** Free queue head, written by the NIC as it takes buffers for received messages. */
  FREE_HEAD: 20,
  /** Messages for this endpoint the NIC dropped (no free buffer, receive queue full). */
  DROPS: 24,
  /** Slots per queue, written by the NIC when the endpoint is created. */
  ENTRIES: 28,
  /**
   * The direct-access area, written by the owner: peers' direct deposits may
   * land only in [DIRECT_BASE, DIRECT_BASE + DIRECT_LEN) (and never before the
   * buffer area). The NIC zeroes both at create (no area: every direct deposit
   * is refused) and reads them at each deposit; a peer cannot write them.
   */
  DIRECT_BASE: 32,
  DIRECT_LEN: 36,
  /** Bytes of header. */
  SIZE: 64,
} as const;

/** Word offsets inside a send or receive descriptor. */
export const UNET_DESC = {
  /** Channel index (send: where to; receive: where from). */
  CHAN: 0,
  /** UNET_FLAG bits. */
  FLAGS: 4,
  /** Buffer offset in the segment. */
  OFFSET: 8,
  /** Bytes. */
  LEN: 12,
  /** Direct access: offset in the receiver's segment where the data lands. */
  ROFFSET: 16,
  /** UNET_STATUS, written back by the NIC. */
  STATUS: 20,
  /** Bytes per send or receive descriptor. */
  SIZE: 24,
} as const;

/** Word offsets inside a free-queue entry (a buffer the NIC may fill). */
export const UNET_FREE = {
  OFFSET: 0,
  LEN: 4,
  SIZE: 8,
} as const;

export const UNET_FLAG = {
  /** Direct access: deposit at ROFFSET of the receiver's segment, no free buffer taken. */
  DIRECT: 1,
} as const;

/** What the NIC writes into a descriptor's STATUS word. */
export const UNET_STATUS = {
  /** Owner's value before the NIC has handled the descriptor. */
  PENDING: 0,
  OK: 1,
  /** Send: the channel is not open on this endpoint. */
  BAD_CHANNEL: 2,
  /** Send: the buffer lies outside the segment; receive (direct): ROFFSET does not fit the receiver's segment. */
  BAD_BUFFER: 3,
  /** Send: longer than UNET_LIMITS.MAX_MESSAGE. */
  TOO_LONG: 4,
  /** Receive: no free buffer (or one too small) was queued; the data was dropped. */
  NO_BUFFER: 5,
  /** Send: unknown flag bits. */
  BAD_FLAGS: 6,
  /**
   * Receive, at the sender: a direct deposit this channel sent fell outside the
   * receiver's direct-access area; the receiver's NIC dropped it and said so.
   * ROFFSET names the refused offset; no data, nothing reached the receiver.
   */
  DIRECT_REFUSED: 7,
  /**
   * Receive: the channel closed (or was opened afresh) while this message was
   * on its way through the NIC; its data was dropped. OFFSET is the free
   * buffer the NIC had already taken for it, handed back; LEN is 0.
   */
  CHANNEL_CLOSED: 8,
} as const;

/** Flags of unet_create (kernel/syscalls/table.ts). */
export const UNET_CREATE_FLAGS = {
  /** Raise the upcall interrupt when the receive queue becomes non-empty (unet_wait needs it). */
  UPCALL: 1,
  /** Also interrupt the owner's computation: a thread of the owner computing on the interrupted core resumes in its message handler (interrupt-driven Active Messages). */
  USER_UPCALL: 2,
} as const;

export const UNET_LIMITS = {
  /** Largest message: an AAL5 frame's payload. */
  MAX_MESSAGE: 65535,
  /** Most slots per queue. */
  MAX_ENTRIES: 1024,
  /** Most channels per endpoint. */
  MAX_CHANNELS: 256,
  /** Most endpoints per NIC. */
  MAX_ENDPOINTS: 64,
  /**
   * Most messages for one endpoint from one sending node that the NIC's
   * receive engine queues before it has demultiplexed them (their share of
   * its FIFO); more wait in the network (link-level flow control) until the
   * share has room, while other shares' messages go ahead. A sending NIC can
   * issue messages faster than a receiving one demultiplexes them, and one
   * unbounded FIFO let one uid's flood delay everyone else's messages for as
   * long as it lasted. 32: twice the deepest backlog the shipped programs
   * build (unet_bandwidth's stream, 16), so their timing is what it was.
   */
  RX_BACKLOG: 32,
  /** OFFSET of a received descriptor for which the NIC took no free buffer. */
  NO_OFFSET: 0xffffffff,
} as const;

/** Byte offsets of the three queues for a segment with `entries` slots per queue, and where buffers may start. */
export function unetQueues(entries: number): { readonly send: number; readonly recv: number; readonly free: number; readonly buffers: number } {
  const send = UNET_HDR.SIZE;
  const recv = send + entries * UNET_DESC.SIZE;
  const free = recv + entries * UNET_DESC.SIZE;
  const buffers = free + entries * UNET_FREE.SIZE;
  return { send, recv, free, buffers };
}
