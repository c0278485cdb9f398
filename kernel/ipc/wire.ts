// The wire format of the kernel-to-kernel IPC transport (kernel/ipc/kkt.ts).
// It shares the NIC with Portals, job control and the DSM and the same header
// size; word 0 (the kind) tells them apart, so the receive interrupt routes
// it here. Only kernels build these headers: a process never supplies one.

import { IPC_MESSAGE_KIND as IPC_KIND, NIC_HEADER_BYTES as HEADER_BYTES } from '../nicwire.ts';

/** The transport's message types, one table (the trace names them by these strings). */
export const IPC_MSG = {
  /** One block of a message: its words and (by DMA) payload bytes [offset, offset + block length). */
  data: 1,
  /** The receiver took block(s) up to `offset` (flow control: the sender may send the next). */
  ack: 2,
  /** The receiver cannot take the message (no buffer for it): the sender gives it up. */
  nack: 3,
} as const;

export type IpcMsgType = keyof typeof IPC_MSG;

const TYPE_OF = new Map<number, IpcMsgType>(Object.entries(IPC_MSG).map(([k, v]) => [v, k as IpcMsgType]));

/** Words a message carries besides the transport's own (the header has 23; the transport uses 8). */
export const MAX_WORDS = 15;

const FIXED = 8;

export interface IpcHeader {
  readonly type: IpcMsgType;
  /** The sender's id for the message (unique per sending node). */
  readonly msgId: number;
  /** Ordering stream (a service or a port): messages of one stream between two nodes are delivered in order. */
  readonly stream: number;
  /** Sequence number in the stream (data), for in-order delivery. */
  readonly seq: number;
  /** Data: where this block's bytes go in the message; ack: bytes taken so far. */
  readonly offset: number;
  /** The message's whole payload length in bytes. */
  readonly total: number;
  /** The upper layer's words (data only; acks carry none). */
  readonly words: readonly number[];
}

export function encodeIpc(h: IpcHeader): Uint8Array {
  const b = new Uint8Array(HEADER_BYTES);
  const dv = new DataView(b.buffer);
  const w = [IPC_KIND, IPC_MSG[h.type], h.msgId, h.stream, h.seq, h.offset, h.total, h.words.length, ...h.words];
  w.forEach((v, i) => dv.setBigInt64(8 * i, BigInt(v), true));
  return b;
}

/** Decodes a transport header, or null when it is not one or is malformed (the caller drops and counts it). */
export function decodeIpc(b: Uint8Array): IpcHeader | null {
  if (b.length < HEADER_BYTES) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const big = (i: number) => dv.getBigInt64(8 * i, true);
  if (big(0) !== BigInt(IPC_KIND)) return null;
  const type = TYPE_OF.get(Number(big(1)));
  if (type === undefined) return null;
  const n = Number(big(7));
  if (!Number.isInteger(n) || n < 0 || n > MAX_WORDS) return null;
  const fixed: number[] = [];
  for (let i = 2; i < FIXED - 1; i++) {
    const v = big(i);
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    fixed.push(Number(v));
  }
  const [msgId, stream, seq, offset, total] = fixed;
  if (offset > total) return null;
  const words: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = big(FIXED + i);
    if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    words.push(Number(v));
  }
  return { type, msgId, stream, seq, offset, total, words };
}

/** A service name as one word (up to 6 ASCII letters, so it stays a safe integer, digits, '-' or '_'); null when it cannot be one. */
export function serviceCode(name: string): number | null {
  if (!/^[A-Za-z0-9_-]{1,6}$/.test(name)) return null;
  let v = 0;
  for (let i = 0; i < name.length; i++) v = v * 256 + name.charCodeAt(i);
  return v;
}

/** The name a service word stands for (the inverse of serviceCode); null when it is none. */
export function serviceName(code: number): string | null {
  if (!Number.isSafeInteger(code) || code <= 0) return null;
  let name = '';
  for (let v = code; v > 0; v = Math.floor(v / 256)) name = String.fromCharCode(v % 256) + name;
  return serviceCode(name) === code ? name : null;
}
