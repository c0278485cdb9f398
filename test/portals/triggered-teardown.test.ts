// Triggered operations end with the objects they wait on: PtlCTFree and
// PtlNIFini cancel them (nothing is sent, their pins and pending entries go),
// and process exit drops them, so the node's allocator and staging ring end
// exactly as they began. Also: triggered sends from non-contiguous MDs
// gather their data, and take their staging slot, when they fire.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../userland/lib/runtime.ts';
import type { Portals } from '../../userland/lib/portals.ts';
import { MiB, PTL, machine, mmapRw, openPortals, spawn, waitFor } from '../security/attack.ts';


/** A non-contiguous (PTL_IOVEC) MD over `pieces` buffers of `each` bytes; returns the MD and the buffers. */
function* iovecMd(env: Env, P: Portals, ni: number, pieces: number, each: number, extra: { eq_handle?: number; ct_handle?: number; options?: number } = {}) {
  const bufs: number[] = [];
  for (let i = 0; i < pieces; i++) bufs.push(yield* env.mem.alloc(each));
  const iov = yield* env.mem.alloc(16 * pieces);
  for (const [i, b] of bufs.entries()) {
    yield* env.mem.storeU64(iov + 16 * i, b);
    yield* env.mem.storeU64(iov + 16 * i + 8, each);
  }
  const { rc, md } = yield* P.PtlMDBind(ni, { start: iov, length: pieces, ...extra, options: PTL.IOVEC | (extra.options ?? 0) });
  expect(rc).toBe(PTL.OK);
  return { md, bufs };
}

interface SinkState {
  ready: boolean;
  arrived: number;
  done: boolean;
  /** The sink's buffer once `done`. */
  final?: number[];
}

/** A sink on node 1 counting the puts and atomics that reach its LE on portal 0. */
function sink(sys: ReturnType<typeof machine>, state: SinkState, bytes = 64) {
  const proc = spawn(sys, 1, 1, 'sink', function* (env) {
    const { P, ni, eq } = yield* openPortals(env);
    const buf = yield* env.mem.alloc(bytes);
    yield* P.PtlLEAppend(ni, 0, { start: buf, length: bytes, options: PTL.ME_OP_PUT | PTL.ME_OP_GET }, PTL.PRIORITY_LIST, 0);
    state.ready = true;
    while (!state.done) {
      const r = yield* P.PtlEQGet(eq);
      if (r.rc === PTL.OK && (r.event!.type === PTL.EVENT_PUT || r.event!.type === PTL.EVENT_ATOMIC || r.event!.type === PTL.EVENT_FETCH_ATOMIC)) state.arrived++;
      else yield* env.sys.nanosleep(20_000);
    }
    state.final = [...(yield* env.mem.load(buf, bytes))];
  });
  return { proc };
}

describe('freeing a counter', () => {
  it('cancels the triggered operations waiting on it: nothing is sent and the MD is free to release', () => {
    const sys = machine(2);
    const k = sys.kernel(0);
    const state: SinkState = { ready: false, arrived: 0, done: false };
    const s = sink(sys, state);
    const seen: Record<string, number> = {};
    const src = spawn(sys, 0, 1, 'src', function* (env) {
      yield* waitFor(env, () => state.ready);
      const { P, ni } = yield* openPortals(env);
      const { ct } = yield* P.PtlCTAlloc(ni);
      const { md } = yield* iovecMd(env, P, ni, 2, 8);
      for (const t of [1, 2, 3]) expect(yield* P.PtlTriggeredPut(md, 0, 16, PTL.NO_ACK_REQ, { nid: 1, pid: s.proc.pid }, 0, 0n, 0, 0, 0, ct, t)).toBe(PTL.OK);
      seen.inflightBefore = k.portals.inflight(src);
      seen.releaseBefore = yield* P.PtlMDRelease(md);
      seen.free = yield* P.PtlCTFree(ct);
      seen.inflightAfter = k.portals.inflight(src);
      seen.releaseAfter = yield* P.PtlMDRelease(md);
      yield* env.sys.nanosleep(2_000_000);
      state.done = true;
    });
    sys.run({ until: 1e12, done: () => !src.alive && !s.proc.alive });
    expect(seen).toEqual({ inflightBefore: 3, releaseBefore: PTL.IN_USE, free: PTL.OK, inflightAfter: 0, releaseAfter: PTL.OK });
    expect(state.arrived).toBe(0);
    expect(k.portals.stagingBusy).toBe(0);
  });
});

describe('finalizing an NI', () => {
  it('cancels the triggered operations on its counters while the process lives on', () => {
    const sys = machine(2);
    const k = sys.kernel(0);
    const state: SinkState = { ready: false, arrived: 0, done: false };
    const s = sink(sys, state);
    const seen: Record<string, number> = {};
    const src = spawn(sys, 0, 1, 'src', function* (env) {
      yield* waitFor(env, () => state.ready);
      const { P, ni } = yield* openPortals(env);
      const { ct } = yield* P.PtlCTAlloc(ni);
      const { md } = yield* iovecMd(env, P, ni, 4, 8);
      const buf = yield* env.mem.alloc(8);
      const { md: flat } = yield* P.PtlMDBind(ni, { start: buf, length: 8 });
      expect(yield* P.PtlTriggeredPut(md, 0, 32, PTL.NO_ACK_REQ, { nid: 1, pid: s.proc.pid }, 0, 0n, 0, 0, 0, ct, 5)).toBe(PTL.OK);
      expect(yield* P.PtlTriggeredGet(flat, 0, 8, { nid: 1, pid: s.proc.pid }, 0, 0n, 0, 0, ct, 7)).toBe(PTL.OK);
      expect(yield* P.PtlTriggeredCTInc(ct, 1, 0, ct, 9)).toBe(PTL.OK);
      seen.inflightBefore = k.portals.inflight(src);
      seen.fini = yield* P.PtlNIFini(ni);
      seen.inflightAfter = k.portals.inflight(src);
      seen.staging = k.portals.stagingBusy;
      yield* env.sys.nanosleep(2_000_000);
      state.done = true;
    });
    sys.run({ until: 1e12, done: () => !src.alive && !s.proc.alive });
    expect(seen).toEqual({ inflightBefore: 2, fini: PTL.OK, inflightAfter: 0, staging: 0 });
    expect(state.arrived).toBe(0);
  });
  it('cancels the operations sending from its descriptors that wait on another NI\'s counter', () => {
    const sys = machine(2);
    const k = sys.kernel(0);
    const state: SinkState = { ready: false, arrived: 0, done: false };
    const s = sink(sys, state);
    const seen: Record<string, number> = {};
    const src = spawn(sys, 0, 1, 'src', function* (env) {
      yield* waitFor(env, () => state.ready);
      const { P, ni } = yield* openPortals(env);
      const { ct } = yield* P.PtlCTAlloc(ni);
      const { ni: ni2 } = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_MATCHING | PTL.NI_PHYSICAL, PTL.PID_ANY, null);
      const { md } = yield* iovecMd(env, P, ni2, 2, 8);
      expect(yield* P.PtlTriggeredPut(md, 0, 16, PTL.NO_ACK_REQ, { nid: 1, pid: s.proc.pid }, 0, 0n, 0, 0, 0, ct, 1)).toBe(PTL.OK);
      seen.fini = yield* P.PtlNIFini(ni2);
      seen.inflight = k.portals.inflight(src);
      // The counter lives on and reaches the threshold: nothing is sent from the finalized NI.
      seen.inc = yield* P.PtlCTInc(ct, 1, 0);
      yield* env.sys.nanosleep(2_000_000);
      state.done = true;
    });
    sys.run({ until: 1e12, done: () => !src.alive && !s.proc.alive });
    expect(seen).toEqual({ fini: PTL.OK, inflight: 0, inc: PTL.OK });
    expect(state.arrived).toBe(0);
    expect(k.portals.stagingBusy).toBe(0);
  });
});

describe('a triggered operation', () => {
  it('that finds no staging free when it fires fails like an undeliverable send, and holds nothing', () => {
    const sys = machine(2);
    const k = sys.kernel(0);
    const state: SinkState = { ready: false, arrived: 0, done: false };
    const s = sink(sys, state);
    const seen: Record<string, number> = {};
    const src = spawn(sys, 0, 1, 'src', function* (env) {
      yield* waitFor(env, () => state.ready);
      const { P, ni, eq } = yield* openPortals(env);
      const { ct } = yield* P.PtlCTAlloc(ni);
      const { ct: mdCt } = yield* P.PtlCTAlloc(ni);
      // Two 8 MiB pieces: more than the kernel's whole staging ring.
      const [a, b] = [yield* mmapRw(env, 8 * MiB), yield* mmapRw(env, 8 * MiB)];
      const iov = yield* env.mem.alloc(32);
      for (const [i, w] of [a, 8 * MiB, b, 8 * MiB].entries()) yield* env.mem.storeU64(iov + 8 * i, w);
      const { md } = yield* P.PtlMDBind(ni, { start: iov, length: 2, options: PTL.IOVEC | PTL.MD_EVENT_CT_SEND, eq_handle: eq, ct_handle: mdCt });
      const target = { nid: 1, pid: s.proc.pid };
      seen.put = yield* P.PtlPut(md, 0, 16 * MiB, PTL.NO_ACK_REQ, target, 0, 0n, 0, 0, 0);
      seen.trig = yield* P.PtlTriggeredPut(md, 0, 16 * MiB, PTL.NO_ACK_REQ, target, 0, 0n, 0, 0, 0, ct, 1);
      seen.staging = k.portals.stagingBusy;
      yield* P.PtlCTInc(ct, 1, 0);
      const ev = (yield* P.PtlEQWait(eq)).event!;
      seen.event = ev.type;
      seen.niFail = ev.ni_fail_type;
      seen.mdCtFailure = (yield* P.PtlCTGet(mdCt)).failure;
      seen.inflight = k.portals.inflight(src);
      seen.release = yield* P.PtlMDRelease(md);
      yield* env.sys.nanosleep(2_000_000);
      state.done = true;
    });
    sys.run({ until: 1e12, done: () => !src.alive && !s.proc.alive });
    expect(seen).toEqual({ put: PTL.NO_SPACE, trig: PTL.OK, staging: 0, event: PTL.EVENT_SEND, niFail: PTL.NI_UNDELIVERABLE, mdCtFailure: 1, inflight: 0, release: PTL.OK });
    expect(state.arrived).toBe(0);
    expect(k.portals.stagingBusy).toBe(0);
  });

  it('takes no staging slot until it fires', () => {
    const sys = machine(2);
    const k = sys.kernel(0);
    const state: SinkState = { ready: false, arrived: 0, done: false };
    const s = sink(sys, state);
    const seen: number[] = [];
    const src = spawn(sys, 0, 1, 'src', function* (env) {
      yield* waitFor(env, () => state.ready);
      const { P, ni } = yield* openPortals(env);
      const { ct } = yield* P.PtlCTAlloc(ni);
      const { md } = yield* iovecMd(env, P, ni, 2, 16);
      expect(yield* P.PtlTriggeredPut(md, 0, 32, PTL.NO_ACK_REQ, { nid: 1, pid: s.proc.pid }, 0, 0n, 0, 0, 0, ct, 1)).toBe(PTL.OK);
      seen.push(k.portals.stagingBusy);
      yield* P.PtlCTInc(ct, 1, 0);
      seen.push(k.portals.stagingBusy > 0 ? 1 : 0);
      yield* waitFor(env, () => state.arrived === 1);
      state.done = true;
    });
    sys.run({ until: 1e12, done: () => !src.alive && !s.proc.alive });
    expect(seen).toEqual([0, 1]);
    expect(k.portals.stagingBusy).toBe(0);
  });

  it('atomic from an iovec MD applies the operands as of the trigger', () => {
    const sys = machine(2);
    const state: SinkState = { ready: false, arrived: 0, done: false };
    const s = sink(sys, state, 8);
    const src = spawn(sys, 0, 1, 'src', function* (env) {
      yield* waitFor(env, () => state.ready);
      const { P, ni } = yield* openPortals(env);
      const { ct } = yield* P.PtlCTAlloc(ni);
      const { md, bufs } = yield* iovecMd(env, P, ni, 2, 4);
      for (const b of bufs) yield* env.mem.store(b, new Uint8Array([1, 0, 0, 0]));
      expect(yield* P.PtlTriggeredAtomic(md, 0, 8, PTL.NO_ACK_REQ, { nid: 1, pid: s.proc.pid }, 0, 0n, 0, 0, 0, PTL.SUM, PTL.UINT32_T, ct, 1)).toBe(PTL.OK);
      for (const b of bufs) yield* env.mem.store(b, new Uint8Array([7, 0, 0, 0]));
      yield* P.PtlCTInc(ct, 1, 0);
      yield* waitFor(env, () => state.arrived === 1);
      state.done = true;
    });
    sys.run({ until: 1e12, done: () => !src.alive && !s.proc.alive });
    expect(state.final).toEqual([7, 0, 0, 0, 7, 0, 0, 0]);
  });

  it('fetch-atomic from an iovec MD applies the operands as of the trigger and scatters the old values back', () => {
    const sys = machine(2);
    const state: SinkState = { ready: false, arrived: 0, done: false };
    const s = sink(sys, state, 8);
    let fetched: number[] = [];
    const src = spawn(sys, 0, 1, 'src', function* (env) {
      yield* waitFor(env, () => state.ready);
      const { P, ni, eq } = yield* openPortals(env);
      const { ct } = yield* P.PtlCTAlloc(ni);
      const { md: put, bufs } = yield* iovecMd(env, P, ni, 2, 4);
      const { md: get, bufs: back } = yield* iovecMd(env, P, ni, 2, 4, { eq_handle: eq });
      for (const b of bufs) yield* env.mem.store(b, new Uint8Array([1, 0, 0, 0]));
      expect(yield* P.PtlTriggeredFetchAtomic(get, 0, put, 0, 8, { nid: 1, pid: s.proc.pid }, 0, 0n, 0, 0, 0, PTL.SUM, PTL.UINT32_T, ct, 1)).toBe(PTL.OK);
      for (const b of bufs) yield* env.mem.store(b, new Uint8Array([5, 0, 0, 0]));
      yield* P.PtlCTInc(ct, 1, 0);
      for (;;) if ((yield* P.PtlEQWait(eq)).event!.type === PTL.EVENT_REPLY) break;
      fetched = [...(yield* env.mem.load(back[0], 4)), ...(yield* env.mem.load(back[1], 4))];
      // A second one sees the first's result.
      expect(yield* P.PtlTriggeredFetchAtomic(get, 0, put, 0, 8, { nid: 1, pid: s.proc.pid }, 0, 0n, 0, 0, 0, PTL.SUM, PTL.UINT32_T, ct, 2)).toBe(PTL.OK);
      for (const b of bufs) yield* env.mem.store(b, new Uint8Array([2, 0, 0, 0]));
      yield* P.PtlCTInc(ct, 1, 0);
      for (;;) if ((yield* P.PtlEQWait(eq)).event!.type === PTL.EVENT_REPLY) break;
      fetched.push(...(yield* env.mem.load(back[0], 4)), ...(yield* env.mem.load(back[1], 4)));
      state.done = true;
    });
    sys.run({ until: 1e12, done: () => !src.alive && !s.proc.alive });
    expect(fetched).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0]);
    expect(state.final).toEqual([7, 0, 0, 0, 7, 0, 0, 0]);
  });
});

describe('triggered operations, whatever ends them', () => {
  it('leave the allocator and the staging ring exactly as they began', () => {
    // Seeded and small: each run boots a two-node machine.
    const ends = ['exit', 'ct-free', 'ni-fini', 'cancel', 'fire'] as const;
    fc.assert(
      fc.property(
        fc.array(fc.record({ iovec: fc.boolean(), threshold: fc.integer({ min: 1, max: 4 }), kind: fc.constantFrom('put', 'get', 'atomic', 'ct') }), { minLength: 1, maxLength: 5 }),
        fc.constantFrom(...ends),
        (ops, end) => {
          const sys = machine(2);
          const k = sys.kernel(0);
          const before = { used: k.phys.usedBytes, staging: k.portals.stagingBusy };
          const state: SinkState = { ready: false, arrived: 0, done: false };
          const s = sink(sys, state);
          const src = spawn(sys, 0, 1, 'src', function* (env) {
            yield* waitFor(env, () => state.ready);
            const { P, ni } = yield* openPortals(env);
            const { ct } = yield* P.PtlCTAlloc(ni);
            const { ct: other } = yield* P.PtlCTAlloc(ni);
            const target = { nid: 1, pid: s.proc.pid };
            for (const op of ops) {
              const md = op.iovec ? (yield* iovecMd(env, P, ni, 2, 8)).md : (yield* P.PtlMDBind(ni, { start: yield* env.mem.alloc(16), length: 16 })).md;
              const rc =
                op.kind === 'put'
                  ? yield* P.PtlTriggeredPut(md, 0, 16, PTL.NO_ACK_REQ, target, 0, 0n, 0, 0, 0, ct, op.threshold)
                  : op.kind === 'get'
                    ? yield* P.PtlTriggeredGet(md, 0, 16, target, 0, 0n, 0, 0, ct, op.threshold)
                    : op.kind === 'atomic'
                      ? yield* P.PtlTriggeredAtomic(md, 0, 16, PTL.NO_ACK_REQ, target, 0, 0n, 0, 0, 0, PTL.SUM, PTL.UINT64_T, ct, op.threshold)
                      : yield* P.PtlTriggeredCTInc(other, 1, 0, ct, op.threshold);
              expect(rc).toBe(PTL.OK);
            }
            if (end === 'ct-free') expect(yield* P.PtlCTFree(ct)).toBe(PTL.OK);
            if (end === 'ni-fini') expect(yield* P.PtlNIFini(ni)).toBe(PTL.OK);
            if (end === 'cancel') expect(yield* P.PtlCTCancelTriggered(ct)).toBe(PTL.OK);
            if (end === 'fire') yield* P.PtlCTInc(ct, 4, 0);
            yield* env.sys.nanosleep(2_000_000);
            state.done = true;
          });
          sys.run({ until: 1e12, done: () => !src.alive && !s.proc.alive });
          sys.run({ until: sys.engine.now + 1e9 });
          const sent = ops.filter((o) => o.kind === 'put' || o.kind === 'atomic').length;
          expect(state.arrived).toBe(end === 'fire' ? sent : 0);
          expect({ used: k.phys.usedBytes, staging: k.portals.stagingBusy }).toEqual(before);
        },
      ),
      { seed: 4242, numRuns: 15 },
    );
  });
});
