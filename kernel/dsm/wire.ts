// The wire format of the kernel DSM's kernel-to-kernel messages. They share
// the NIC with Portals and job control and the same header size; word 0 (the
// kind) tells them apart, so the receive interrupt routes them here.
//
// Every message names the job's region by the key the kernels derive from
// the job itself (uid, node and pid of rank 0): a process never supplies it,
// so no process can name another job's region.

import { DSM_MESSAGE_KIND as DSM_KIND, NIC_HEADER_BYTES as HEADER_BYTES } from '../nicwire.ts';

/** The message types, one table (the trace and the protocol name them by these strings). */
export const DSM_MSG = {
  /** requester -> manager: a read copy of `page`. */
  'read-req': 1,
  /** requester -> manager: the only (writable) copy of `page`. */
  'write-req': 2,
  /** manager -> owner: send `page` to `arg` (read: keep a read copy; write: give it up). */
  fetch: 3,
  /** manager -> a holder: drop your copy of `page`. */
  invalidate: 4,
  /** holder -> manager: dropped. */
  'inv-ack': 5,
  /** owner -> requester: the page's bytes (payload, by DMA), access `arg` (1 read, 2 write). */
  data: 6,
  /** manager -> requester: access `arg` without data (a zero page, or an upgrade of a valid read copy). */
  grant: 7,
  /** requester -> manager: installed; the manager may serve the next request for `page`. */
  confirm: 8,
  /** manager -> requester: `page` cannot be served (`arg`: the node that held it and is down). */
  fail: 9,
  'lock-req': 10,
  /** manager -> rank: lock `page` is yours (`arg` 0), or refused (`arg` 1 + the rank that ended holding it). */
  'lock-grant': 11,
  /** holder -> manager: released (`arg` 0), or its process ended holding it (`arg` 1: the lock is broken). */
  unlock: 12,
  /** rank -> rank 0: arrived at barrier epoch `page`. */
  arrive: 13,
  /** rank 0 -> every rank: barrier epoch `page` is complete (`arg` 0), or cannot be (`arg` 1 + a rank that left before entering it). */
  go: 14,
  /** rank -> rank 0: detached; when every rank has, rank 0 sends `release`. */
  detached: 15,
  release: 16,
  /** owner -> manager: the page could not reach rank/access `arg` (packed), whose node is down. */
  lost: 17,
  /** rank -> rank 0's node: this rank created its part of the region with `arg` bytes, or could not (node.ts's JOIN_REFUSAL). */
  join: 18,
  /** rank 0's node -> a rank: the create's outcome (`arg`: node.ts's JOIN_OUTCOME). */
  joined: 19,
  /** rank 0's node -> the node of rank `arg` (pid `page`), which has not announced its part: tell me if it ends first. */
  expect: 20,
  /** a node -> a node it waits on (dsm/watch.ts): dropped on arrival; only its failure to arrive matters. */
  probe: 21,
} as const;

export type DsmMsgType = keyof typeof DSM_MSG;

const TYPE_OF = new Map<number, DsmMsgType>(Object.entries(DSM_MSG).map(([k, v]) => [v, k as DsmMsgType]));

/** Which job's region: derived by the kernel from the job (never from user arguments). */
export interface RegionKey {
  readonly uid: number;
  readonly nid0: number;
  readonly pid0: number;
}

export interface DsmHeader {
  readonly type: DsmMsgType;
  readonly key: RegionKey;
  /** The sending rank. */
  readonly src: number;
  /** A page number, a lock id or a barrier epoch. */
  readonly page: number;
  /** A rank, an access (1 read, 2 write), a value or a node, by type. */
  readonly arg: number;
}

const WORDS = 8;

export function encodeDsm(h: DsmHeader): Uint8Array {
  const b = new Uint8Array(HEADER_BYTES);
  const dv = new DataView(b.buffer);
  const w = [DSM_KIND, DSM_MSG[h.type], h.key.uid, h.key.nid0, h.key.pid0, h.src, h.page, h.arg];
  w.forEach((v, i) => dv.setBigInt64(8 * i, BigInt(v), true));
  return b;
}

/** Decodes a DSM header, or null when it is not one (or is malformed). */
export function decodeDsm(b: Uint8Array): DsmHeader | null {
  if (b.length < WORDS * 8) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const w = (i: number) => Number(dv.getBigInt64(8 * i, true));
  if (w(0) !== DSM_KIND) return null;
  const type = TYPE_OF.get(w(1));
  if (type === undefined) return null;
  return { type, key: { uid: w(2), nid0: w(3), pid0: w(4) }, src: w(5), page: w(6), arg: w(7) };
}

export function sameKey(a: RegionKey, b: RegionKey): boolean {
  return a.uid === b.uid && a.nid0 === b.nid0 && a.pid0 === b.pid0;
}
