// The Portals calls on event queues and counters: allocation, freeing,
// reading and the blocking waits and polls (a freed EQ or counter
// interrupts its waiters), and the triggered operations that wait on a
// counter's threshold (PtlTriggered*, PtlTriggeredCT*).

import type { Cpu } from '../cpu.ts';
import { type KPath, block, step } from '../step.ts';
import type { SyscallCtx } from '../syscalls/context.ts';
import type { SyscallName } from '../syscalls/table.ts';
import { PTL } from './defs.ts';
import type { PortalsProcess } from './state.ts';
import type { PtlEvent } from './objects.ts';
import { type Handler, PTL_ARG_TYPES, SAFE, niOf, num, out, readHandles, readStruct, u32, wordsFit } from './callargs.ts';
import { SEND_CALL, SEND_KIND, sendArgs } from './sendcalls.ts';

function eventWords(ev: PtlEvent, logical: boolean): bigint[] {
  return [ev.type, ev.start, ev.userPtr, ev.hdrData, ev.matchBits, ev.rlength, ev.mlength, ev.remoteOffset, ev.uid, logical ? ev.rank : ev.nid, ev.pid, ev.ptIndex, ev.niFail, ev.atomicOp, ev.atomicType, ev.list].map((x) => BigInt.asUintN(64, BigInt(x)));
}

/** Blocks the caller until `ready()` or the timeout (ms; PTL_TIME_FOREVER waits forever). Returns true if ready. */
function* waitUntil(c: SyscallCtx, pp: PortalsProcess, ready: () => boolean, timeoutMs: number): KPath<boolean> {
  const deadline = timeoutMs === PTL.TIME_FOREVER ? Infinity : c.k.engine.now + timeoutMs * 1e9;
  while (!ready()) {
    if (c.k.engine.now >= deadline) return false;
    pp.waiters.add(c.t);
    if (deadline !== Infinity) {
      const t = c.t;
      c.k.sleepUntil(t, deadline, 'sleep', function* (k, cpu: Cpu) {
        pp.waiters.delete(t);
        yield* k.wake(t, 'timeout', cpu);
      });
    }
    yield* block();
  }
  return true;
}

export const EVENT_CALLS: Partial<Record<SyscallName, Handler>> = {
  *ptl_eq_alloc(c, pp, a) {
    const ni = niOf(pp, a[0]);
    if (ni === null || num(a[2]) === 0) return PTL.ARG_INVALID;
    const r = c.k.portals.eqAlloc(ni, num(a[1]));
    if (r.rc !== PTL.OK) return r.rc;
    yield* out(c, num(a[2]), [r.eq!.handle]);
    return PTL.OK;
  },
  *ptl_eq_free(c, pp, a) {
    return yield* c.k.portals.eqFree(pp, u32(a[0]), c.cpu);
  },
  *ptl_eq_get(c, pp, a) {
    return yield* eqTake(c, pp, u32(a[0]), num(a[1]));
  },
  *ptl_eq_wait(c, pp, a) {
    const eq = c.k.portals.findEq(pp, u32(a[0]));
    if (eq === null || num(a[1]) === 0) return PTL.ARG_INVALID;
    const freed = () => c.k.portals.findEq(pp, eq.handle) === null;
    yield* waitUntil(c, pp, () => eq.events.length > 0 || freed(), PTL.TIME_FOREVER);
    if (freed()) return PTL.INTERRUPTED;
    return yield* eqTake(c, pp, eq.handle, num(a[1]));
  },
  *ptl_eq_poll(c, pp, a) {
    const size = num(a[1]);
    if (!(size > 0 && size <= 1024) || num(a[3]) === 0) return PTL.ARG_INVALID;
    const hs = yield* readHandles(c, num(a[0]), size);
    if (hs === null) return PTL.ARG_INVALID;
    const eqs = hs.map((h) => c.k.portals.findEq(pp, u32(h)));
    if (eqs.some((e) => e === null)) return PTL.ARG_INVALID;
    const ready = () => eqs.some((e) => e!.events.length > 0);
    if (!(yield* waitUntil(c, pp, ready, u32(a[2])))) return PTL.EQ_EMPTY;
    const which = eqs.findIndex((e) => e!.events.length > 0);
    if (num(a[4]) !== 0) yield* out(c, num(a[4]), [which]);
    return yield* eqTake(c, pp, eqs[which]!.handle, num(a[3]));
  },
  *ptl_ct_alloc(c, pp, a) {
    const ni = niOf(pp, a[0]);
    if (ni === null || num(a[1]) === 0) return PTL.ARG_INVALID;
    const r = c.k.portals.ctAlloc(ni);
    if (r.rc !== PTL.OK) return r.rc;
    yield* out(c, num(a[1]), [r.ct!.handle]);
    return PTL.OK;
  },
  *ptl_ct_free(c, pp, a) {
    return yield* c.k.portals.ctFree(pp, u32(a[0]), c.cpu);
  },
  *ptl_ct_get(c, pp, a) {
    const ct = c.k.portals.findCt(pp, u32(a[0]));
    if (ct === null) return PTL.ARG_INVALID;
    return (yield* out(c, num(a[1]), [ct.success, ct.failure])) ? PTL.OK : PTL.ARG_INVALID;
  },
  *ptl_ct_wait(c, pp, a) {
    const ct = c.k.portals.findCt(pp, u32(a[0]));
    const test = num(a[1]);
    if (ct === null || num(a[2]) === 0) return PTL.ARG_INVALID;
    // A counter is done when it reaches the test or records any failure;
    // freeing it under a waiter interrupts the wait, as in the reference.
    const freed = () => c.k.portals.findCt(pp, ct.handle) === null;
    yield* waitUntil(c, pp, () => ct.success >= test || ct.failure > 0 || freed(), PTL.TIME_FOREVER);
    if (freed()) return PTL.INTERRUPTED;
    return (yield* out(c, num(a[2]), [ct.success, ct.failure])) ? PTL.OK : PTL.ARG_INVALID;
  },
  *ptl_ct_poll(c, pp, a) {
    const size = num(a[2]);
    if (!(size > 0 && size <= 1024) || num(a[4]) === 0) return PTL.ARG_INVALID;
    const hs = yield* readHandles(c, num(a[0]), size);
    const tests = yield* readStruct(c, num(a[1]), size);
    if (hs === null || tests === null || tests.some((t) => t > SAFE)) return PTL.ARG_INVALID;
    const cts = hs.map((h) => c.k.portals.findCt(pp, u32(h)));
    if (cts.some((x) => x === null)) return PTL.ARG_INVALID;
    const hit = () => cts.findIndex((x, i) => x!.success >= num(tests[i]) || x!.failure > 0);
    if (!(yield* waitUntil(c, pp, () => hit() >= 0, u32(a[3])))) return PTL.CT_NONE_REACHED;
    const i = hit();
    if (num(a[5]) !== 0) yield* out(c, num(a[5]), [i]);
    return (yield* out(c, num(a[4]), [cts[i]!.success, cts[i]!.failure])) ? PTL.OK : PTL.ARG_INVALID;
  },
  *ptl_ct_set(c, pp, a) {
    const ct = c.k.portals.findCt(pp, u32(a[0]));
    if (ct === null) return PTL.ARG_INVALID;
    yield* c.k.portals.ctAdd(pp, ct, num(a[1]), num(a[2]), c.cpu, true);
    return PTL.OK;
  },
  *ptl_ct_inc(c, pp, a) {
    const ct = c.k.portals.findCt(pp, u32(a[0]));
    // An increment adds to successes or to failures, not both (the reference refuses that).
    if (ct === null || (a[1] !== 0n && a[2] !== 0n)) return PTL.ARG_INVALID;
    yield* c.k.portals.ctAdd(pp, ct, num(a[1]), num(a[2]), c.cpu);
    return PTL.OK;
  },
  *ptl_ct_cancel_triggered(c, pp, a) {
    const ct = c.k.portals.findCt(pp, u32(a[0]));
    if (ct === null) return PTL.ARG_INVALID;
    ct.cancelTriggered();
    return PTL.OK;
  },
  *ptl_triggered(c, pp, a) {
    const kind = SEND_KIND[num(a[0])];
    const ct = c.k.portals.findCt(pp, u32(a[2]));
    if (kind === undefined || ct === null) return PTL.ARG_INVALID;
    const types = PTL_ARG_TYPES[SEND_CALL[kind]]!;
    const inner = yield* readStruct(c, num(a[1]), types.length);
    if (inner === null || !wordsFit(inner, types)) return PTL.ARG_INVALID;
    const args = yield* sendArgs(c, kind, inner);
    if (args === null) return PTL.ARG_INVALID;
    // Validate now (a bad operation fails at the call), send when the counter gets there.
    const k = c.k;
    const probe = k.portals.send(pp, args, true);
    if (probe.rc !== PTL.OK) return probe.rc;
    yield step('portals', 'trigger', k.profile.values['kernel.portalsEventCycles'], `${kind} at ${num(a[3])}`);
    yield* k.portals.trigger(ct, num(a[3]), probe.fire!, c.cpu, () => k.portals.abandon(probe.opId!), probe.ni);
    return PTL.OK;
  },
  *ptl_triggered_ct(c, pp, a) {
    const ct = c.k.portals.findCt(pp, u32(a[0]));
    const trig = c.k.portals.findCt(pp, u32(a[3]));
    if (ct === null || trig === null) return PTL.ARG_INVALID;
    const k = c.k;
    const set = a[5] !== 0n;
    yield step('portals', 'trigger', k.profile.values['kernel.portalsEventCycles'], `ct ${set ? 'set' : 'inc'} at ${num(a[4])}`);
    yield* k.portals.trigger(trig, num(a[4]), (cpu) => k.portals.ctAdd(pp, ct, num(a[1]), num(a[2]), cpu, set), c.cpu);
    return PTL.OK;
  },
};

/** Takes the next event of an EQ into a user event struct. */
function* eqTake(c: SyscallCtx, pp: PortalsProcess, h: number, eventPtr: number): KPath<number> {
  const eq = c.k.portals.findEq(pp, h);
  if (eq === null || eventPtr === 0) return PTL.ARG_INVALID;
  const ev = eq.events.shift();
  if (ev === undefined) return PTL.EQ_EMPTY;
  const ni = pp.owner(h)!;
  if (!(yield* out(c, eventPtr, eventWords(ev, ni.logical)))) return PTL.ARG_INVALID;
  if (eq.dropped) {
    eq.dropped = false;
    return PTL.EQ_DROPPED;
  }
  return PTL.OK;
}
