// The initiator side: validating and sending a put, get, atomic, fetch or
// swap (and the puts the kernel sends for an extension), its SEND, ACK and
// REPLY events, and the answers (acks, replies) that finish it.

import type { Cpu } from '../cpu.ts';
import type { Process } from '../process.ts';
import { type KPath, step } from '../step.ts';
import { usesOperand, validAtomic } from './atomics.ts';
import { PTL, TYPE_SIZE } from './defs.ts';
import type { PortalsDriver } from './driver.ts';
import { slice } from './iov.ts';
import type { PtlOp } from './match.ts';
import { type MemoryDescriptor, type NetworkInterface, blankEvent, handleKind } from './objects.ts';
import { once } from './staging.ts';
import type { PortalsProcess, TargetId } from './state.ts';
import { type Header, MSG, emptyHeader, encodeHeader } from './wire.ts';

export interface SendArgs {
  readonly op: PtlOp;
  readonly putMd: number | null;
  readonly putOffset: number;
  readonly getMd: number | null;
  readonly getOffset: number;
  readonly length: number;
  readonly ackReq: number;
  readonly target: TargetId;
  readonly ptIndex: number;
  readonly matchBits: bigint;
  readonly remoteOffset: number;
  readonly userPtr: bigint;
  readonly hdrData: bigint;
  readonly atomOp: number;
  readonly atomType: number;
  readonly operand: Uint8Array;
}

export interface Pending {
  readonly args: SendArgs;
  readonly ni: NetworkInterface;
  readonly pp: PortalsProcess;
  readonly putMd: MemoryDescriptor | null;
  readonly getMd: MemoryDescriptor | null;
  /** What the operation holds until it is finished: pins on the MD memory it moves, its staging slot. */
  readonly release: () => void;
  /** The data has left the MD (the SEND event is posted). */
  sent?: boolean;
  /** An ack that arrived before the last byte left (a target drops on the header): handled once sent. */
  earlyAck?: Header;
}

/** Resolves a target to (nid, pid), validating it for the NI. */
export function resolve(drv: PortalsDriver, ni: NetworkInterface, t: TargetId): { nid: number; pid: number } | null {
  if (ni.logical) {
    const map = ni.map;
    if (map === null || !(t.rank >= 0 && t.rank < map.length)) return null;
    return map[t.rank];
  }
  if (!(t.nid >= 0 && t.nid < drv.k.host.nodeCount)) return null;
  return { nid: t.nid, pid: t.pid };
}

/** Validates and sends a put, get, atomic, fetch-atomic or swap. Returns a PTL code. */
export function send(drv: PortalsDriver, pp: PortalsProcess, a: SendArgs, triggered = false): { rc: number; work?: KPath; fire?: (cpu: Cpu) => KPath; opId?: number; ni?: NetworkInterface } {
  const mdOf = (h: number | null) => {
    if (h === null) return null;
    const ni = pp.owner(h);
    return ni !== null && handleKind(h) === 'md' ? (ni.mds.get(h) ?? undefined) : undefined;
  };
  const putMd = mdOf(a.putMd);
  const getMd = mdOf(a.getMd);
  if (putMd === undefined || getMd === undefined) return { rc: PTL.ARG_INVALID };
  const md = putMd ?? getMd!;
  const ni = pp.owner(md.handle)!;
  if (putMd && getMd && pp.owner(getMd.handle) !== ni) return { rc: PTL.ARG_INVALID };
  const limits = ni.limits;
  if (!Number.isSafeInteger(a.length) || a.length < 0) return { rc: PTL.ARG_INVALID };
  if (putMd && (a.putOffset < 0 || a.putOffset + a.length > putMd.length)) return { rc: PTL.ARG_INVALID };
  if (getMd && (a.getOffset < 0 || a.getOffset + a.length > getMd.length)) return { rc: PTL.ARG_INVALID };
  if (getMd && !getMd.writable) return { rc: PTL.ARG_INVALID };
  // The reference's check_put/get/atomic/swap, in its order.
  if (a.length > limits.max_msg_size) return { rc: PTL.ARG_INVALID };
  if (a.op === 'atomic' || a.op === 'fetch' || a.op === 'swap') {
    if (a.length > limits.max_atomic_size) return { rc: PTL.ARG_INVALID };
    if (!validAtomic(a.atomOp, a.atomType, a.op === 'swap')) return { rc: PTL.ARG_INVALID };
    if (a.op === 'swap' && usesOperand(a.atomOp) && a.length > TYPE_SIZE[a.atomType]) return { rc: PTL.ARG_INVALID };
  }
  if (a.ackReq < 0 || a.ackReq > PTL.OC_ACK_REQ) return { rc: PTL.ARG_INVALID };
  if ((a.op === 'put' || a.op === 'atomic') && putMd) {
    if (a.ackReq === PTL.ACK_REQ && putMd.eq === null) return { rc: PTL.ARG_INVALID };
    if (a.ackReq === PTL.CT_ACK_REQ && putMd.ct === null) return { rc: PTL.ARG_INVALID };
    if (putMd.options & PTL.MD_VOLATILE && a.length > limits.max_volatile_size) return { rc: PTL.ARG_INVALID };
  }
  if (!(a.ptIndex >= 0 && a.ptIndex <= limits.max_pt_index)) return { rc: PTL.ARG_INVALID };
  const dst = drv.resolve(ni, a.target);
  if (dst === null) return { rc: PTL.ARG_INVALID };
  const opId = drv.nextOp++;
  // The operation pins the MD memory it reads or a reply will land in, until it is finished.
  const hold = drv.pin([...(putMd ? slice(putMd.pieces, a.putOffset, a.length) : []), ...(getMd ? slice(getMd.pieces, a.getOffset, a.length) : [])]);
  let slot = -1;
  const pend: Pending = {
    args: a,
    ni,
    pp,
    putMd,
    getMd,
    release: () => {
      hold.release();
      drv.unstage(slot);
      slot = -1;
    },
  };
  drv.pending.set(opId, pend);
  if (putMd) putMd.busy++;
  if (getMd) getMd.busy++;
  const h = emptyHeader(MSG[a.op]);
  h.ni = ni.index;
  h.dstPid = dst.pid;
  h.srcNid = drv.k.nid;
  h.srcPid = ni.pid;
  h.srcRank = pp.process.info.rank;
  h.uid = pp.process.info.uid;
  h.ptIndex = a.ptIndex;
  h.matchBits = a.matchBits;
  h.roffset = a.remoteOffset;
  h.rlength = a.length;
  h.hdrData = a.hdrData;
  h.ackReq = a.ackReq;
  h.atomOp = a.atomOp;
  h.atomType = a.atomType;
  h.opId = opId;
  h.operand = a.operand;
  const payloadLen = a.op === 'get' ? 0 : a.length;
  // The payload source: a non-contiguous MD is gathered into staging here.
  const source = () => (a.op === 'get' ? { pa: 0, slot: -1 } : drv.txSource(putMd!.pieces, a.putOffset, a.length));
  const transmit = (pa: number) => drv.k.node.nic.transmit({ dst: dst.nid, header: encodeHeader(h), payloadAddr: pa, payloadLen, cookie: opId });
  const label = `${a.op} ${a.length} B -> ${dst.nid}:${dst.pid} pt ${a.ptIndex}`;
  if (triggered) {
    // A triggered operation sends the MD as it is when the counter fires: it
    // gathers (and takes its staging slot) then, not at registration.
    const fire = function* (cpu: Cpu): KPath {
      yield step('portals', 'trig-send', drv.v['kernel.portalsSetupCycles'], label);
      const src = source();
      if (src === null) {
        // As PtlPut would return PTL_NO_SPACE: nothing is sent; the failure
        // reaches the initiator as a failed operation (event, counter).
        yield step('portals', 'drop', 50, `no staging for triggered ${a.op} of ${a.length} B`);
        yield* drv.failed(opId, cpu);
        return;
      }
      slot = src.slot;
      transmit(src.pa);
    };
    return { rc: PTL.OK, fire, opId, ni };
  }
  const src = source();
  if (src === null) {
    drv.finish(opId);
    return { rc: PTL.NO_SPACE };
  }
  slot = src.slot;
  const work = (function* (): KPath {
    yield step('portals', 'send', drv.v['kernel.portalsSetupCycles'], label);
    transmit(src.pa);
  })();
  return { rc: PTL.OK, work, opId };
}

/**
 * A put sent by the kernel on a process's behalf (an extension forwarding
 * or replying): no descriptor, no events at the sender.
 */
export function sendFromKernel(drv: PortalsDriver, pp: PortalsProcess, ni: NetworkInterface, t: TargetId, ptIndex: number, matchBits: bigint, data: Uint8Array, direct = false): boolean {
  const dst = direct ? { nid: t.nid, pid: t.pid } : drv.resolve(ni, t);
  if (dst === null) return false;
  const at = data.length > 0 ? drv.staging.take(data.length) : 0;
  if (at < 0) return false;
  if (data.length > 0) drv.k.node.memory.write(at, data);
  // The slot is the NIC's until the transmit completes.
  const cookie = data.length > 0 ? drv.nextHold++ : 0;
  if (data.length > 0) drv.txHolds.set(cookie, () => drv.staging.release(at));
  const h = emptyHeader(MSG.put);
  h.ni = ni.index;
  h.dstPid = dst.pid;
  h.srcNid = drv.k.nid;
  h.srcPid = ni.pid;
  h.srcRank = pp.process.info.rank;
  h.uid = pp.process.info.uid;
  h.ptIndex = ptIndex;
  h.matchBits = matchBits;
  h.rlength = data.length;
  drv.k.node.nic.transmit({ dst: dst.nid, header: encodeHeader(h), payloadAddr: at, payloadLen: data.length, cookie });
  return true;
}

/** Forgets an operation that will never be sent (a cancelled triggered operation). */
export function abandon(drv: PortalsDriver, opId: number): void {
  drv.finish(opId);
}

/** Local completion of a request: the SEND event (the payload has left the MD). */
export function* sent(drv: PortalsDriver, opId: number, cpu: Cpu): KPath {
  const p = drv.pending.get(opId);
  if (p === undefined || p.args.op === 'get') return;
  p.sent = true;
  const md = p.putMd!;
  if (md.eq && !(md.options & PTL.MD_EVENT_SEND_DISABLE) && !(md.options & PTL.MD_EVENT_SUCCESS_DISABLE)) {
    const ev = blankEvent(PTL.EVENT_SEND);
    ev.mlength = p.args.length;
    ev.userPtr = p.args.userPtr;
    ev.ptIndex = p.args.ptIndex;
    ev.matchBits = p.args.matchBits;
    ev.hdrData = p.args.hdrData;
    ev.remoteOffset = p.args.remoteOffset;
    if (p.args.op !== 'put') {
      ev.atomicOp = p.args.atomOp;
      ev.atomicType = p.args.atomType;
    }
    yield* drv.post(p.pp, md.eq, ev, cpu);
  }
  if (md.ct && md.options & PTL.MD_EVENT_CT_SEND) yield* drv.ctAdd(p.pp, md.ct, md.options & PTL.MD_EVENT_CT_BYTES ? p.args.length : 1, 0, cpu);
  // A put without an ack and an atomic without one are finished at the initiator.
  if ((p.args.op === 'put' || p.args.op === 'atomic') && p.args.ackReq === PTL.NO_ACK_REQ) drv.finish(opId);
  // The SEND event comes before the ACK event of the same operation.
  if (p.earlyAck) yield* drv.acked(p, p.earlyAck, cpu);
}

/** The ACK event and count of an acknowledged put or atomic. */
export function* acked(drv: PortalsDriver, p: Pending, h: Header, cpu: Cpu): KPath {
  const md = p.putMd!;
  if (p.args.ackReq === PTL.ACK_REQ && md.eq && !(md.options & PTL.MD_EVENT_SUCCESS_DISABLE && h.niFail === PTL.NI_OK)) {
    const ev = blankEvent(PTL.EVENT_ACK);
    ev.mlength = h.mlength;
    ev.remoteOffset = h.moffset;
    ev.userPtr = p.args.userPtr;
    ev.ptIndex = p.args.ptIndex;
    ev.niFail = h.niFail;
    ev.list = h.ptIndex;
    yield* drv.post(p.pp, md.eq, ev, cpu);
  }
  if (md.ct && md.options & PTL.MD_EVENT_CT_ACK) {
    if (h.niFail === PTL.NI_OK) yield* drv.ctAdd(p.pp, md.ct, md.options & PTL.MD_EVENT_CT_BYTES ? h.mlength : 1, 0, cpu);
    else yield* drv.ctAdd(p.pp, md.ct, 0, 1, cpu);
  }
  drv.finish(h.opId);
}

export function* failed(drv: PortalsDriver, opId: number, cpu: Cpu): KPath {
  const p = drv.pending.get(opId);
  if (p === undefined) return;
  const md = p.putMd ?? p.getMd!;
  if (md.eq) {
    const ev = blankEvent(p.args.op === 'get' ? PTL.EVENT_REPLY : PTL.EVENT_SEND);
    ev.niFail = PTL.NI_UNDELIVERABLE;
    ev.userPtr = p.args.userPtr;
    yield* drv.post(p.pp, md.eq, ev, cpu);
  }
  if (md.ct) yield* drv.ctAdd(p.pp, md.ct, 0, 1, cpu);
  drv.finish(opId);
}

export function finish(drv: PortalsDriver, opId: number): void {
  const p = drv.pending.get(opId);
  if (p === undefined) return;
  drv.pending.delete(opId);
  p.release();
  if (p.putMd) p.putMd.busy--;
  if (p.getMd) p.getMd.busy--;
  if (!p.pp.process.alive) drv.k.reapZombies();
}

/** Operations of `p` whose DMA may still touch its memory. */
export function inflight(drv: PortalsDriver, p: Process): number {
  let n = 0;
  for (const op of drv.pending.values()) if (op.pp.process === p) n++;
  return n;
}

/** An ack or a reply arrived for one of our operations. */
export function* response(drv: PortalsDriver, h: Header, rxId: number, payloadLen: number, cpu: Cpu): KPath {
  const nic = drv.k.node.nic;
  const p = drv.pending.get(h.opId);
  if (p === undefined) {
    nic.discard(rxId);
    return;
  }
  if (h.kind === MSG.ack) {
    nic.discard(rxId);
    yield step('portals', 'ack', drv.v['kernel.portalsMatchCycles'], `op ${h.opId} ni_fail ${h.niFail}`);
    if (!p.sent) p.earlyAck = h;
    else yield* drv.acked(p, h, cpu);
    return;
  }
  // A reply: its data goes into the get MD.
  const md = p.getMd!;
  const len = Math.min(payloadLen, h.mlength, md.length - p.args.getOffset);
  yield step('portals', 'reply', drv.v['kernel.portalsMatchCycles'], `op ${h.opId} ${len} B`);
  const done = function* (c: Cpu, niFail: number): KPath {
    if (md.eq && !(md.options & PTL.MD_EVENT_SUCCESS_DISABLE && niFail === PTL.NI_OK)) {
      const ev = blankEvent(PTL.EVENT_REPLY);
      ev.mlength = niFail === PTL.NI_OK ? len : 0;
      ev.remoteOffset = h.moffset;
      ev.userPtr = p.args.userPtr;
      ev.ptIndex = p.args.ptIndex;
      ev.niFail = niFail;
      ev.list = h.ptIndex;
      yield* drv.post(p.pp, md.eq, ev, c);
    }
    if (md.ct && md.options & PTL.MD_EVENT_CT_REPLY) {
      if (niFail === PTL.NI_OK) yield* drv.ctAdd(p.pp, md.ct, md.options & PTL.MD_EVENT_CT_BYTES ? len : 1, 0, c);
      else yield* drv.ctAdd(p.pp, md.ct, 0, 1, c);
    }
    drv.finish(h.opId);
  };
  const where = len > 0 && h.niFail === PTL.NI_OK ? drv.rxTarget(md.pieces, p.args.getOffset, len) : null;
  if (where !== null) {
    const free = once(() => drv.unstage(where.slot));
    // If the DMA fails, or the completion path oopses, the slot goes back and the get is over.
    drv.rxHolds.set(rxId, () => {
      free();
      drv.finish(h.opId);
    });
    drv.rxDone.set(rxId, function* (c) {
      where.after?.();
      free();
      yield* done(c, PTL.NI_OK);
    });
    nic.deposit(rxId, where.pa, len);
  } else {
    nic.discard(rxId);
    // No staging for a reply that must be scattered: it is dropped here, and the get fails.
    yield* done(cpu, len > 0 && h.niFail === PTL.NI_OK ? PTL.NI_DROPPED : h.niFail);
  }
}
