// The wire format of kernel-interpreted messages. They share the NIC with
// Portals and the Portals header's size; word 0 (the kind) tells them apart.
// Only these are interpreted by kernels (the seed's job-load proposal): job
// load (answered ACK or NACK), app status (answered with every CPU context
// of the app), app kill (answered affirmatively), and the exit fan-in that
// carries a subtree's combined exit status up the load tree; and the
// failure notice a failed rank's kernel sends straight to the launcher.

import { KMSG } from '../abi.ts';
import { KERNEL_MESSAGE_KIND as KERNEL_KIND, NIC_HEADER_BYTES as HEADER_BYTES } from '../nicwire.ts';

export type KMsgType = 'load' | 'load-ack' | 'load-nack' | 'status' | 'status-reply' | 'kill' | 'kill-ack' | 'exit' | 'failed';

const KMSG_CODE: Readonly<Record<KMsgType, number>> = {
  load: KMSG.LOAD,
  'load-ack': KMSG.LOAD_ACK,
  'load-nack': KMSG.LOAD_NACK,
  status: KMSG.STATUS,
  'status-reply': KMSG.STATUS_REPLY,
  kill: KMSG.KILL,
  'kill-ack': KMSG.KILL_ACK,
  exit: KMSG.EXIT,
  failed: KMSG.FAILED,
};

const TYPE_OF = new Map<number, KMsgType>(Object.entries(KMSG_CODE).map(([k, v]) => [v, k as KMsgType]));

/** A subtree's combined exit status. */
export interface ExitSummary {
  ranks: number;
  failed: number;
  /** The lowest failed rank and its status (-1 when none failed). */
  firstFailedRank: number;
  firstFailedStatus: number;
}

export interface KMsgHeader {
  readonly type: KMsgType;
  /** The process the message is for (0: the kernel itself). */
  readonly dstPid: number;
  readonly srcNid: number;
  readonly srcPid: number;
  readonly rank: number;
  readonly uid: number;
  readonly jobId: number;
  /** load: bytes of the ELF image at the start of the payload (the job block follows). */
  readonly imageLen: number;
  /** Replies: 0 or a status; failed: the rank's exit status; exit: unused. */
  readonly code: number;
  readonly jobSize: number;
  readonly summary: ExitSummary;
  /** What the sending kernel vouches its sender is (SENDER): only a launcher or a loaded rank may send a load. */
  readonly sender: number;
}

/** The sender's role, stamped by its kernel (a process cannot set it). */
export const SENDER = { none: 0, launcher: 1, rank: 2 } as const;

const WORDS = 16;

export function encodeKMsg(h: KMsgHeader): Uint8Array {
  const b = new Uint8Array(HEADER_BYTES);
  const dv = new DataView(b.buffer);
  const w = [KERNEL_KIND, KMSG_CODE[h.type], h.dstPid, h.srcNid, h.srcPid, h.rank, h.uid, h.jobId, h.imageLen, h.code, h.summary.ranks, h.summary.failed, h.summary.firstFailedRank, h.summary.firstFailedStatus, h.jobSize, h.sender];
  w.forEach((v, i) => dv.setBigInt64(8 * i, BigInt(v), true));
  return b;
}

/** Decodes a kernel message header, or null when it is not one (or is malformed). */
export function decodeKMsg(b: Uint8Array): KMsgHeader | null {
  if (b.length < WORDS * 8) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const w = (i: number) => Number(dv.getBigInt64(8 * i, true));
  if (w(0) !== KERNEL_KIND) return null;
  const type = TYPE_OF.get(w(1));
  if (type === undefined) return null;
  return {
    type,
    dstPid: w(2),
    srcNid: w(3),
    srcPid: w(4),
    rank: w(5),
    uid: w(6),
    jobId: w(7),
    imageLen: w(8),
    code: w(9),
    summary: { ranks: w(10), failed: w(11), firstFailedRank: w(12), firstFailedStatus: w(13) },
    jobSize: w(14),
    sender: w(15),
  };
}

export const NO_SUMMARY: ExitSummary = { ranks: 0, failed: 0, firstFailedRank: -1, firstFailedStatus: 0 };

/** Combines two subtrees' exit summaries. */
export function mergeSummary(a: ExitSummary, b: ExitSummary): ExitSummary {
  const first = a.firstFailedRank < 0 ? b : b.firstFailedRank < 0 ? a : a.firstFailedRank <= b.firstFailedRank ? a : b;
  return { ranks: a.ranks + b.ranks, failed: a.failed + b.failed, firstFailedRank: first.firstFailedRank, firstFailedStatus: first.firstFailedStatus };
}
