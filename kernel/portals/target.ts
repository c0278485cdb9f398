// The target side of a request: the priority/overflow match (match.ts),
// permission, flow control, where the data goes, atomics, an extension's
// verdict, the deposit, and the ack or reply back.

import type { Cpu } from '../cpu.ts';
import { type KPath, step } from '../step.ts';
import { applyAtomic, usesOperand } from './atomics.ts';
import { PTL } from './defs.ts';
import type { PortalsDriver } from './driver.ts';
import { runExtension } from './extension.ts';
import { gather, scatter, slice } from './iov.ts';
import { type Incoming, type PtlOp, permission, place, walk } from './match.ts';
import type { NetworkInterface, PortalTableEntry } from './objects.ts';
import { initiatorRank } from './ranks.ts';
import { once } from './staging.ts';
import type { PortalsProcess } from './state.ts';
import { type Header, MSG, emptyHeader, encodeHeader } from './wire.ts';

/** A request (put, get, atomic, fetch, swap) arrived: match it and move the data. */
export function* request(drv: PortalsDriver, h: Header, rxId: number, src: number, cpu: Cpu): KPath {
  const nic = drv.k.node.nic;
  const v = drv.v;
  const op = (['', 'put', 'get', 'atomic', 'fetch', 'swap'] as const)[h.kind] as PtlOp;
  const target = [...drv.procs.values()].find((s) => s.process.pid === h.dstPid && s.process.alive);
  const ni = target?.nis[h.ni] ?? null;
  const respond = (niFail: number, mlength: number, moffset: number) => drv.respond(h, src, niFail, mlength, moffset, null);
  if (target === undefined || ni === null) {
    // Portals 4: a message to a process or interface that does not exist
    // (yet: a rank still loading) is dropped, and an initiator that asked
    // for an ack or a reply is told PTL_NI_TARGET_INVALID, so it can retry
    // instead of waiting for an answer that will never come.
    nic.discard(rxId);
    yield step('portals', 'drop', v['kernel.portalsMatchCycles'], `no NI for pid ${h.dstPid}`);
    // A process that was here and has ended will never have one: say so (Margay's PTL_NI_TARGET_ENDED).
    const ended = target === undefined && drv.k.processes.get(h.dstPid)?.alive === false;
    if (h.ackReq !== PTL.NO_ACK_REQ || (op !== 'put' && op !== 'atomic')) respond(ended ? PTL.NI_TARGET_ENDED : PTL.NI_TARGET_INVALID, 0, 0);
    return;
  }
  const pt = ni.pts[h.ptIndex];
  if (!pt || !pt.enabled) {
    ni.status[PTL.SR_DROP_COUNT]++;
    nic.discard(rxId);
    yield step('portals', 'drop', v['kernel.portalsMatchCycles'], `pt ${h.ptIndex} ${pt ? 'disabled' : 'not allocated'}`);
    if (h.ackReq !== PTL.NO_ACK_REQ || (op !== 'put' && op !== 'atomic')) respond(PTL.NI_PT_DISABLED, 0, 0);
    return;
  }
  // On a logical NI the initiator is known by its rank in this NI's map, whatever rank the sender claims (ranks.ts);
  // the node is the one the NIC saw it come from.
  if (ni.logical) h.srcRank = initiatorRank(ni, src, h.srcPid, h.srcRank);
  const m: Incoming = { op, matchBits: h.matchBits, rlength: h.rlength, roffset: h.roffset, uid: h.uid, nid: h.srcNid, pid: h.srcPid, rank: h.srcRank, atomicType: h.atomType, swapOp: h.atomOp };
  // The priority list, then the overflow list (match.ts).
  const { entry, list, steps } = walk(pt.priority, pt.overflow, m, ni.logical, ni.matching);
  yield step('portals', 'match', v['kernel.portalsMatchCycles'] * Math.max(1, steps), `${op} pt ${h.ptIndex} bits 0x${h.matchBits.toString(16)}: ${entry ? `${entry.kind} on ${list === 0 ? 'priority' : 'overflow'}` : 'no match'}`);
  if (entry === undefined) {
    yield* drv.refuse(target, ni, pt, h, op, rxId, respond, cpu, null);
    return;
  }
  // An entry whose memory its owner made read-only takes no more writes (see revokeWrite).
  const fail = op !== 'get' && permission(m, entry) === PTL.NI_OK && !entry.writable ? PTL.NI_PERM_VIOLATION : permission(m, entry);
  if (fail !== PTL.NI_OK) {
    ni.status[fail === PTL.NI_PERM_VIOLATION ? PTL.SR_PERMISSION_VIOLATIONS : PTL.SR_OPERATION_VIOLATIONS]++;
    nic.discard(rxId);
    if (h.ackReq !== PTL.NO_ACK_REQ || (op !== 'put' && op !== 'atomic')) respond(fail, 0, 0);
    return;
  }
  const offsetBefore = entry.offset;
  const eventWanted = pt.eq !== null && !(entry.options & (PTL.ME_EVENT_COMM_DISABLE | PTL.ME_EVENT_SUCCESS_DISABLE));
  const noUnexpectedRoom = list === PTL.OVERFLOW_LIST && !(entry.options & PTL.ME_UNEXPECTED_HDR_DISABLE) && pt.unexpected.length >= ni.limits.max_unexpected_headers;
  // The last slot of a flow-controlled entry's EQ is kept for its PT_DISABLED event.
  const noEventRoom = eventWanted && pt.eq!.events.length >= pt.eq!.size - 1;
  if (pt.options & PTL.PT_FLOWCTRL && (noUnexpectedRoom || noEventRoom)) {
    // Flow control: with no room for the event or the unexpected header, the entry is disabled and the message dropped.
    ni.status[PTL.SR_DROP_COUNT]++;
    nic.discard(rxId);
    yield* drv.disablePt(target, pt, cpu);
    if (h.ackReq !== PTL.NO_ACK_REQ || (op !== 'put' && op !== 'atomic')) respond(PTL.NI_PT_DISABLED, 0, 0);
    return;
  }
  const pl = place(m, entry, { maxMsgSize: ni.limits.max_msg_size, maxAtomicSize: ni.limits.max_atomic_size });
  const e = entry;
  const ext = op === 'put' ? e.ext : null;
  // Staging the transfer needs, taken before anything is committed: none free, and the message is refused.
  // A handler's message is staged whole: the handler reads its first payload_max bytes, and on
  // deliver the entry gets every matched byte (what its event reports), as for any other put.
  const extLen = ext !== null ? Math.max(Math.min(h.rlength, ext.payloadMax), pl.mlength) : 0;
  let slot = -1;
  let rx: { pa: number; after: (() => void) | null; slot: number } | null = null;
  let tx: { pa: number; slot: number } | null = null;
  let refused = false;
  if (ext !== null) {
    if (extLen > 0) refused = (slot = drv.staging.take(extLen)) < 0;
  } else if (pl.mlength > 0 && op === 'put') {
    rx = drv.rxTarget(e.pieces, pl.moffset, pl.mlength);
    refused = rx === null;
    if (rx !== null) slot = rx.slot;
  } else if (pl.mlength > 0 && op === 'get') {
    tx = drv.txSource(e.pieces, pl.moffset, pl.mlength);
    refused = tx === null;
    if (tx !== null) slot = tx.slot;
  } else if (pl.mlength > 0) refused = (slot = drv.staging.take(pl.mlength)) < 0;
  if (refused) {
    e.offset = offsetBefore;
    yield* drv.refuse(target, ni, pt, h, op, rxId, respond, cpu, `no staging for ${pl.mlength} B`);
    return;
  }
  if (pl.unlink) drv.remove(ni, e);
  // The operation pins the entry's memory it touches (and a handler's grant) until it is over,
  // however the entry is unlinked or unmapped meanwhile; then it gives its staging slot back.
  const hold = drv.pin([...slice(e.pieces, pl.moffset, pl.mlength), ...(ext?.grant ?? [])]);
  const release = once(() => {
    hold.release();
    drv.unstage(slot);
  });
  // Until a reply takes over `release` (and gives it back once the NIC has sent the reply),
  // the receive's completion path owns it; if that path dies, abandon() gives everything back.
  let handedOn = false;
  const abandon = () => {
    if (!handedOn) release();
  };
  const listNow = list;
  const mem = drv.k.node.memory;
  const deliver = function* (c: Cpu, data: Uint8Array | null): KPath {
    // Apply atomics, then send the reply or ack, then post events.
    let old: Uint8Array | null = null;
    if ((op === 'atomic' || op === 'fetch' || op === 'swap') && data !== null && pl.mlength > 0) {
      const part = slice(e.pieces, pl.moffset, pl.mlength);
      const cur = gather(mem, part);
      old = applyAtomic(h.atomOp, h.atomType, cur, data.subarray(0, pl.mlength), usesOperand(h.atomOp) ? h.operand : null);
      scatter(mem, part, cur);
      yield step('portals', 'atomic', 100 + pl.mlength, `op ${h.atomOp} type ${h.atomType} ${pl.mlength} B`);
    }
    // A reply with data holds the memory it is read from until the NIC has sent it.
    if (op === 'get') {
      handedOn = true;
      drv.respond(h, src, PTL.NI_OK, pl.mlength, pl.moffset, { pa: tx?.pa ?? 0, len: pl.mlength }, listNow, release);
    } else if (op === 'fetch' || op === 'swap') {
      // The old value goes back from the operand's own slot, now read.
      if (old) mem.write(slot, old);
      handedOn = true;
      drv.respond(h, src, PTL.NI_OK, pl.mlength, pl.moffset, { pa: old ? slot : 0, len: old ? old.length : 0 }, listNow, release);
    } else {
      release();
      if (h.ackReq !== PTL.NO_ACK_REQ) drv.respond(h, src, PTL.NI_OK, pl.mlength, pl.moffset, null, listNow);
    }
    yield* drv.targetEvents(target, pt, e, listNow, h, op, pl.mlength, pl.moffset, pl.unlink, c);
  };
  if (ext !== null) {
    // An extension sees the whole payload first, in kernel staging memory, then decides.
    const run = function* (c: Cpu): KPath {
      const payload = new Uint8Array(extLen);
      if (extLen > 0) mem.read(slot, payload);
      const verdict = yield* runExtension(drv, ext, h, payload);
      if (verdict === 'drop') {
        release();
        if (h.ackReq !== PTL.NO_ACK_REQ) drv.respond(h, src, PTL.NI_OK, 0, pl.moffset, null);
        return;
      }
      if (pl.mlength > 0) scatter(mem, slice(e.pieces, pl.moffset, pl.mlength), payload.subarray(0, pl.mlength));
      yield* deliver(c, null);
    };
    if (extLen > 0) {
      drv.rxHolds.set(rxId, abandon);
      drv.rxDone.set(rxId, run);
      nic.deposit(rxId, slot, extLen);
    } else {
      nic.discard(rxId);
      yield* drv.owning(run(cpu), abandon);
    }
    return;
  }
  if (pl.mlength > 0 && op !== 'get') {
    drv.rxHolds.set(rxId, abandon);
    if (rx !== null) {
      const where = rx;
      drv.rxDone.set(rxId, function* (c) {
        where.after?.();
        yield* deliver(c, null);
      });
      nic.deposit(rxId, where.pa, pl.mlength);
    } else {
      drv.rxDone.set(rxId, function* (c) {
        const data = new Uint8Array(pl.mlength);
        mem.read(slot, data);
        yield* deliver(c, data);
      });
      nic.deposit(rxId, slot, pl.mlength);
    }
    return;
  }
  nic.discard(rxId);
  yield* drv.owning(deliver(cpu, null), abandon);
}

/** Runs `path`; if it dies with a host exception (an oops), `abandon` first gives back what it held. */
export function* owning(path: KPath, abandon: () => void): KPath {
  try {
    yield* path;
  } catch (e) {
    abandon();
    throw e;
  }
}

/**
 * Drops a request the target cannot take (no matching entry, or no staging
 * for it), by the Portals flow-control rules: counted; on a table with
 * PTL_PT_FLOWCTRL the table is disabled and the initiator told
 * PT_DISABLED, otherwise it is told DROPPED when it expects an answer.
 */
export function* refuse(drv: PortalsDriver, target: PortalsProcess, ni: NetworkInterface, pt: PortalTableEntry, h: Header, op: PtlOp, rxId: number, respond: (niFail: number, mlength: number, moffset: number) => void, cpu: Cpu, why: string | null): KPath {
  ni.status[PTL.SR_DROP_COUNT]++;
  drv.k.node.nic.discard(rxId);
  if (why !== null) yield step('portals', 'drop', drv.v['kernel.portalsMatchCycles'], why);
  if (pt.options & PTL.PT_FLOWCTRL) yield* drv.disablePt(target, pt, cpu);
  if (h.ackReq !== PTL.NO_ACK_REQ || (op !== 'put' && op !== 'atomic')) respond(pt.options & PTL.PT_FLOWCTRL ? PTL.NI_PT_DISABLED : PTL.NI_DROPPED, 0, 0);
}

/**
 * Sends an ack or a reply (with data from physical memory) back to the
 * initiator, saying which list took the request (ptl_list); `held` (what
 * the reply's data is read from) is released once the NIC has sent it.
 */
export function respond(drv: PortalsDriver, req: Header, src: number, niFail: number, mlength: number, moffset: number, data: { pa: number; len: number } | null, list: number = PTL.PRIORITY_LIST, held?: () => void): void {
  const h = emptyHeader(data !== null || (req.kind !== MSG.put && req.kind !== MSG.atomic) ? MSG.reply : MSG.ack);
  h.ni = req.ni;
  h.dstPid = req.srcPid;
  h.srcNid = drv.k.nid;
  h.opId = req.opId;
  h.mlength = mlength;
  h.moffset = moffset;
  h.niFail = niFail;
  // The ACK and REPLY events tell the initiator which list took the request (ptl_list).
  h.ptIndex = list;
  let cookie = 0;
  if (held !== undefined) {
    cookie = drv.nextHold++;
    drv.txHolds.set(cookie, held);
  }
  drv.k.node.nic.transmit({ dst: src, header: encodeHeader(h), payloadAddr: data?.pa ?? 0, payloadLen: data?.len ?? 0, cookie });
}
