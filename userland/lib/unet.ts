// U-Net at user level (von Eicken et al., SOSP 1995): the library over a
// communication segment. The kernel only sets things up (unet_create,
// unet_open, unet_close, unet_destroy); every send and receive below is
// plain loads and stores into the segment, which the NIC reads and writes
// by DMA. No syscall is on the data path (unet_wait, for a process that
// would rather sleep than poll, is the one exception and is optional).
//
// The API (stable; the Active Messages library, userland/lib/am/, builds on it):
//
//   const ep = yield* unetCreate(env, { entries: 64, bufBytes: 4096 });  // ep.bytes: the segment's size
//   yield* unetOpen(env, ep, chan, { nid, pid, ep: peerEp, chan: peerChan });
//   const buf = unetBuffer(ep, i);              // segment offset of buffer i
//   yield* env.mem.store(ep.va + buf, bytes);   // base level: copy into the segment
//   yield* unetSend(env, ep, chan, buf, len);   // descriptor + doorbell; false if the send queue is full
//   const m = yield* unetPoll(env, ep);         // null, or { chan, offset, len, status, ... }
//   ... read m.len bytes at ep.va + m.offset ...
//   yield* unetRelease(env, ep, m);             // consume it; its buffer goes back to the free queue
//   yield* unetFlush(env, ep);                  // before exit: queued sends go with the endpoint
//
// Segment: `bytes` of memory mapped by unetCreate (physically contiguous,
// as the NIC needs), laid out as userland/lib/unet.gen.ts says: header,
// send/receive/free queues of `entries` slots, then `entries` * 2 buffers of
// `bufBytes` each. unetCreate posts the second half of the buffers to the
// free queue (the NIC fills those on receive); the first half are send
// buffers (unetBuffer(ep, 0 .. entries-1)). Direct access (true zero copy):
// the application keeps its data inside the segment (unetAlloc) and sends
// with { direct: roffset }, which lands the bytes at roffset of the
// receiver's segment without a free buffer, if the receiver declared that
// place its direct-access area (unetCreate's directBytes, unetDirectArea);
// otherwise the receiver's NIC drops it and the sender polls a
// DIRECT_REFUSED descriptor naming roffset.
//
// Status: a refused send descriptor gets a UNET_STATUS code (unetSendStatus);
// a received message whose data was dropped arrives with status NO_BUFFER,
// BAD_BUFFER or CHANNEL_CLOSED and len 0; messages dropped with the receive queue full are
// counted in the segment's DROPS word (unetDrops).

import { ERRNO, SYS } from './abi.gen.ts';
import type { U } from './ops.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './sys.ts';
import { UNET_CREATE, UNET_DESC, UNET_FLAG, UNET_FREE, UNET_HDR, UNET_LIMITS, UNET_STATUS, unetQueues } from './unet.gen.ts';
import type { Env } from './runtime.ts';

export { UNET_CREATE, UNET_FLAG, UNET_LIMITS, UNET_STATUS };

export interface UnetEndpoint {
  /** The endpoint's handle in this process (1 for the first: SPMD ranks can name their peers' without asking). */
  readonly id: number;
  /** Where the segment is mapped. */
  readonly va: number;
  readonly bytes: number;
  readonly entries: number;
  readonly queues: ReturnType<typeof unetQueues>;
  /** Bytes per buffer of the library's buffer area. */
  readonly bufBytes: number;
  /** Where unetAlloc hands out application memory (after the buffers). */
  allocAt: number;
  /** The direct-access area declared to the NIC (offset and bytes; 0 bytes: none). */
  direct: { readonly offset: number; readonly len: number };
  /** The library's copies of the counters it owns (it never needs to read them back). */
  sendTail: number;
  recvHead: number;
  freeTail: number;
}

export interface UnetOptions {
  /** Slots per queue (1 .. UNET_LIMITS.MAX_ENTRIES); default 32. */
  readonly entries?: number;
  /** Bytes per buffer; default 4096 (a page: 4 KiB messages fit). */
  readonly bufBytes?: number;
  /** Extra segment bytes for application data (direct access); default 0. */
  readonly extraBytes?: number;
  /**
   * Bytes of a direct-access area, allocated (as unetAlloc) and declared to the
   * NIC before any channel is opened: peers' direct deposits may land there
   * only (ep.direct). Default 0: no area, every direct deposit is refused.
   */
  readonly directBytes?: number;
  /** Raise the upcall interrupt on a non-empty receive queue (needed by unetWait). */
  readonly upcall?: boolean;
  /** The upcall also interrupts this process's computation and runs env.onMessage's handler (UNET_CREATE.USER_UPCALL). */
  readonly userUpcall?: boolean;
}

export interface UnetPeer {
  readonly nid: number;
  readonly pid: number;
  readonly ep: number;
  readonly chan: number;
}

/** A received message as its descriptor says. */
export interface UnetMessage {
  readonly chan: number;
  readonly flags: number;
  /** Where the data is, as an offset in the segment. */
  readonly offset: number;
  readonly len: number;
  readonly roffset: number;
  readonly status: number;
}

/** A negative errno from a set-up call, as an Error the caller may catch. */
export class UnetError extends Error {
  constructor(
    readonly errno: number,
    call: string,
  ) {
    super(`${call}: ${Object.entries(ERRNO).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`}`);
  }
}

const PAGE = 4096;

/** Maps a segment, makes it an endpoint and posts the receive buffers. */
export function* unetCreate(env: Env, opts: UnetOptions = {}): U<UnetEndpoint> {
  const entries = opts.entries ?? 32;
  const bufBytes = opts.bufBytes ?? 4096;
  const q = unetQueues(entries);
  const buffers = Math.ceil(q.buffers / 64) * 64;
  const directBytes = opts.directBytes ?? 0;
  const bytes = Math.ceil((buffers + 2 * entries * bufBytes + Math.ceil(directBytes / 64) * 64 + (opts.extraBytes ?? 0)) / PAGE) * PAGE;
  const va = yield* env.sys.mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (va < 0) throw new UnetError(-va, 'mmap');
  const id = yield* env.sys.raw(SYS.unet_create, va, bytes, entries, (opts.upcall ? UNET_CREATE.UPCALL : 0) | (opts.userUpcall ? UNET_CREATE.USER_UPCALL : 0));
  if (id < 0) throw new UnetError(-id, 'unet_create');
  const ep: UnetEndpoint = { id, va, bytes, entries, queues: { ...q, buffers }, bufBytes, allocAt: buffers + 2 * entries * bufBytes, direct: { offset: 0, len: 0 }, sendTail: 0, recvHead: 0, freeTail: 0 };
  if (directBytes > 0) yield* unetDirectArea(env, ep, unetAlloc(ep, directBytes), directBytes);
  for (let i = 0; i < entries; i++) yield* unetPostFree(env, ep, unetBuffer(ep, entries + i), bufBytes);
  return ep;
}

/** Offset in the segment of the library's buffer i (0 .. 2*entries-1; the second half are receive buffers). */
export function unetBuffer(ep: UnetEndpoint, i: number): number {
  return ep.queues.buffers + i * ep.bufBytes;
}

/** Offset of `n` bytes of application memory inside the segment (direct access), 64-byte aligned. */
export function unetAlloc(ep: UnetEndpoint, n: number): number {
  const at = ep.allocAt;
  if (at + n > ep.bytes) throw new RangeError(`unetAlloc: ${n} bytes do not fit the segment (${ep.bytes - at} left; pass extraBytes to unetCreate)`);
  ep.allocAt = Math.ceil((at + n) / 64) * 64;
  return at;
}

/**
 * Declares [offset, offset+len) of the segment the direct-access area: the NIC
 * lets peers' direct deposits land there and nowhere else (one outside is
 * dropped and its sender gets a DIRECT_REFUSED receive descriptor). Moving or
 * closing it (len 0) takes effect for every deposit not yet written at the
 * store: the NIC checks the area again when a deposit's bytes land.
 * Keep the library's receive buffers out of it: what lands there is the
 * peers' to overwrite until the application has read it.
 */
export function* unetDirectArea(env: Env, ep: UnetEndpoint, offset: number, len: number): U {
  if (!(offset >= ep.queues.buffers && len >= 0 && offset + len <= ep.bytes)) throw new RangeError(`unetDirectArea: [${offset}, ${offset + len}) is not in the segment's buffer area [${ep.queues.buffers}, ${ep.bytes})`);
  ep.direct = { offset, len };
  // LEN first, then BASE after it: a deposit checked in between sees an empty or the final area, never a mix.
  yield* env.mem.storeU32(ep.va + UNET_HDR.DIRECT_LEN, 0);
  yield* env.mem.storeU32(ep.va + UNET_HDR.DIRECT_BASE, offset);
  yield* env.mem.storeU32(ep.va + UNET_HDR.DIRECT_LEN, len);
}

/**
 * Opens channel `chan` to a peer's channel; both ends may call it (the second
 * finds it open). A peer whose endpoint does not exist yet refuses
 * (ECONNREFUSED): the open is tried again until `waitNs` of simulated time
 * have passed since the first refusal (default 4 ms), or until the clock
 * reads `untilNs` if that is given, first 20 us apart, the pause doubling up to
 * 1.28 ms or an eighth of the time waited so far, whichever is longer: a late
 * peer is joined at most an eighth late, and a wait of seconds is a few dozen
 * tries, not millions of events.
 */
export function* unetOpen(env: Env, ep: UnetEndpoint, chan: number, peer: UnetPeer, opts: { readonly waitNs?: number; readonly untilNs?: number } = {}): U {
  const waitNs = opts.waitNs ?? 4_000_000;
  // The clock is read only once refused: an open that succeeds at once costs no more than the syscall.
  let begin: number | null = null;
  for (let pause = 20_000; ; ) {
    const r = yield* env.sys.raw(SYS.unet_open, ep.id, chan, peer.nid, peer.pid, peer.ep, peer.chan);
    if (r === 0) return;
    const now = yield* env.sys.clockNs();
    begin ??= now;
    const left = (opts.untilNs ?? begin + waitNs) - now;
    if (r !== -ERRNO.ECONNREFUSED || left <= 0) throw new UnetError(-r, 'unet_open');
    yield* env.sys.nanosleep(Math.min(pause, left));
    pause = Math.min(2 * pause, Math.max(1_280_000, Math.floor((now - begin) / 8)));
  }
}

export function* unetClose(env: Env, ep: UnetEndpoint, chan: number): U {
  const r = yield* env.sys.raw(SYS.unet_close, ep.id, chan);
  if (r < 0) throw new UnetError(-r, 'unet_close');
}

export function* unetDestroy(env: Env, ep: UnetEndpoint): U {
  const r = yield* env.sys.raw(SYS.unet_destroy, ep.id);
  if (r < 0) throw new UnetError(-r, 'unet_destroy');
}

function words(...v: number[]): Uint8Array {
  const b = new Uint8Array(v.length * 4);
  const dv = new DataView(b.buffer);
  v.forEach((x, i) => dv.setUint32(i * 4, x >>> 0, true));
  return b;
}

/**
 * Queues a send of [offset, offset+len) of the segment on `chan` and rings
 * the doorbell. Returns false (nothing queued) if the send queue is full.
 * With `direct`, the data lands at that offset of the receiver's segment.
 */
export function* unetSend(env: Env, ep: UnetEndpoint, chan: number, offset: number, len: number, opts: { readonly direct?: number } = {}): U<boolean> {
  const head = yield* env.mem.loadU32(ep.va + UNET_HDR.SEND_HEAD);
  if (((ep.sendTail - head) >>> 0) >= ep.entries) return false;
  const slot = ep.va + ep.queues.send + (ep.sendTail % ep.entries) * UNET_DESC.SIZE;
  const direct = opts.direct !== undefined;
  yield* env.mem.store(slot, words(chan, direct ? UNET_FLAG.DIRECT : 0, offset, len, direct ? opts.direct! : 0, UNET_STATUS.PENDING));
  ep.sendTail = (ep.sendTail + 1) >>> 0;
  // The doorbell: this store is what starts the NIC.
  yield* env.mem.storeU32(ep.va + UNET_HDR.SEND_TAIL, ep.sendTail);
  return true;
}

/** Sends not yet taken by the NIC (0: every send buffer may be reused). */
export function* unetSendsPending(env: Env, ep: UnetEndpoint): U<number> {
  const head = yield* env.mem.loadU32(ep.va + UNET_HDR.SEND_HEAD);
  return (ep.sendTail - head) >>> 0;
}

/**
 * Waits until the NIC has taken every queued send. Call it before exiting:
 * an endpoint goes with its process, and sends still queued go with it.
 */
export function* unetFlush(env: Env, ep: UnetEndpoint, spinCycles = 50): U {
  while ((yield* unetSendsPending(env, ep)) > 0) yield* env.compute(spinCycles);
}

/** The status the NIC wrote into send descriptor number `n` (counting from 0), PENDING until it has. */
export function* unetSendStatus(env: Env, ep: UnetEndpoint, n: number): U<number> {
  return yield* env.mem.loadU32(ep.va + ep.queues.send + (n % ep.entries) * UNET_DESC.SIZE + UNET_DESC.STATUS);
}

/** The next received message, or null if the receive queue is empty. Call unetRelease when done with it. */
export function* unetPoll(env: Env, ep: UnetEndpoint): U<UnetMessage | null> {
  const tail = yield* env.mem.loadU32(ep.va + UNET_HDR.RECV_TAIL);
  if (tail === ep.recvHead) return null;
  const d = yield* env.mem.load(ep.va + ep.queues.recv + (ep.recvHead % ep.entries) * UNET_DESC.SIZE, UNET_DESC.SIZE);
  const dv = new DataView(d.buffer);
  const w = (o: number) => dv.getUint32(o, true);
  const m = { chan: w(UNET_DESC.CHAN), flags: w(UNET_DESC.FLAGS), offset: w(UNET_DESC.OFFSET), len: w(UNET_DESC.LEN), roffset: w(UNET_DESC.ROFFSET), status: w(UNET_DESC.STATUS) };
  return unetDescriptorFits(ep, m) ? m : { ...m, offset: UNET_LIMITS.NO_OFFSET, len: 0, status: UNET_STATUS.BAD_BUFFER };
}

/**
 * Whether a receive descriptor is one the NIC could have written: a channel
 * number in range, and data inside the buffer area (a library receive buffer
 * unless direct). A descriptor that does not fit (the queue was written by
 * something else) is handed on as BAD_BUFFER with no data, never read
 * through; its buffer is not posted back.
 */
export function unetDescriptorFits(ep: UnetEndpoint, m: UnetMessage): boolean {
  if (!(m.chan < UNET_LIMITS.MAX_CHANNELS)) return false;
  const direct = (m.flags & UNET_FLAG.DIRECT) !== 0;
  const i = (m.offset - ep.queues.buffers) / ep.bufBytes;
  const receiveBuffer = Number.isInteger(i) && i >= ep.entries && i < 2 * ep.entries;
  if (m.status !== UNET_STATUS.OK) return m.len === 0 && (direct || m.offset === UNET_LIMITS.NO_OFFSET || receiveBuffer);
  if (m.offset < ep.queues.buffers || m.offset + m.len > ep.bytes) return false;
  return direct || (receiveBuffer && m.len <= ep.bufBytes);
}

/** Consumes the message unetPoll returned; a free-queue buffer it used goes back to the free queue. */
export function* unetRelease(env: Env, ep: UnetEndpoint, m: UnetMessage): U {
  ep.recvHead = (ep.recvHead + 1) >>> 0;
  yield* env.mem.storeU32(ep.va + UNET_HDR.RECV_HEAD, ep.recvHead);
  if (!(m.flags & UNET_FLAG.DIRECT) && m.offset !== UNET_LIMITS.NO_OFFSET) yield* unetPostFree(env, ep, m.offset, ep.bufBytes);
}

/** Hands the NIC a buffer for a future message. */
export function* unetPostFree(env: Env, ep: UnetEndpoint, offset: number, len: number): U {
  const slot = ep.va + ep.queues.free + (ep.freeTail % ep.entries) * UNET_FREE.SIZE;
  yield* env.mem.store(slot, words(offset, len));
  ep.freeTail = (ep.freeTail + 1) >>> 0;
  yield* env.mem.storeU32(ep.va + UNET_HDR.FREE_TAIL, ep.freeTail);
}

/** Spins on the receive queue until a message arrives (the U-Net way: no syscall). */
export function* unetReceive(env: Env, ep: UnetEndpoint, spinCycles = 50): U<UnetMessage> {
  for (;;) {
    const m = yield* unetPoll(env, ep);
    if (m !== null) return m;
    yield* env.compute(spinCycles);
  }
}

/** Sleeps until the receive queue is non-empty (endpoint created with upcall); -ETIMEDOUT / -EAGAIN as a number. */
export function* unetWait(env: Env, ep: UnetEndpoint, timeoutNs = -1): U<number> {
  return yield* env.sys.raw(SYS.unet_wait, ep.id, timeoutNs);
}

/** Messages the NIC dropped at this endpoint (receive queue full, and no status could be posted). */
export function* unetDrops(env: Env, ep: UnetEndpoint): U<number> {
  return yield* env.mem.loadU32(ep.va + UNET_HDR.DROPS);
}
