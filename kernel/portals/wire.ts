// The Portals header carried by every message on the wire: 23 little-endian
// 64-bit words. Requests (put, get, atomic, fetch, swap) and responses (ack,
// reply) share the layout; unused words are zero.

import { NIC_HEADER_BYTES } from '../nicwire.ts';

export const MSG = { put: 1, get: 2, atomic: 3, fetch: 4, swap: 5, ack: 6, reply: 7 } as const;

export interface Header {
  kind: number;
  ni: number;
  dstPid: number;
  srcNid: number;
  srcPid: number;
  /** The sender's rank in its own job: a hint; a logical target reports the rank in its own map (ranks.ts). */
  srcRank: number;
  uid: number;
  ptIndex: number;
  matchBits: bigint;
  roffset: number;
  rlength: number;
  hdrData: bigint;
  ackReq: number;
  atomOp: number;
  atomType: number;
  /** The initiator's operation id, echoed in the response. */
  opId: number;
  mlength: number;
  moffset: number;
  niFail: number;
  /** The swap comparand or mask (one element, up to 32 bytes). */
  operand: Uint8Array;
}

const HEADER_BYTES = NIC_HEADER_BYTES;

export function emptyHeader(kind: number): Header {
  return { kind, ni: 0, dstPid: 0, srcNid: 0, srcPid: 0, srcRank: 0, uid: 0, ptIndex: 0, matchBits: 0n, roffset: 0, rlength: 0, hdrData: 0n, ackReq: 0, atomOp: 0, atomType: 0, opId: 0, mlength: 0, moffset: 0, niFail: 0, operand: new Uint8Array(32) };
}

export function encodeHeader(h: Header): Uint8Array {
  const b = new Uint8Array(HEADER_BYTES);
  const dv = new DataView(b.buffer);
  const w = [h.kind, h.ni, h.dstPid, h.srcNid, h.srcPid, h.srcRank, h.uid, h.ptIndex];
  w.forEach((v, i) => dv.setBigUint64(8 * i, BigInt(v), true));
  dv.setBigUint64(64, BigInt.asUintN(64, h.matchBits), true);
  dv.setBigUint64(72, BigInt(h.roffset), true);
  dv.setBigUint64(80, BigInt(h.rlength), true);
  dv.setBigUint64(88, BigInt.asUintN(64, h.hdrData), true);
  [h.ackReq, h.atomOp, h.atomType, h.opId, h.mlength, h.moffset, h.niFail].forEach((v, i) => dv.setBigUint64(96 + 8 * i, BigInt(v), true));
  b.set(h.operand.subarray(0, 32), 152);
  return b;
}

export function decodeHeader(b: Uint8Array): Header | null {
  if (b.length < HEADER_BYTES) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = (at: number) => Number(dv.getBigUint64(at, true));
  return {
    kind: n(0),
    ni: n(8),
    dstPid: n(16),
    srcNid: n(24),
    srcPid: n(32),
    srcRank: n(40),
    uid: n(48),
    ptIndex: n(56),
    matchBits: dv.getBigUint64(64, true),
    roffset: n(72),
    rlength: n(80),
    hdrData: dv.getBigUint64(88, true),
    ackReq: n(96),
    atomOp: n(104),
    atomType: n(112),
    opId: n(120),
    mlength: n(128),
    moffset: n(136),
    niFail: n(144),
    operand: b.slice(152, 184),
  };
}
