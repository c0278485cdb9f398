// Attacks through memory the NIC can still reach after munmap: a Portals
// list entry, a memory descriptor and an extension grant keep the physical
// frames captured when they were created, and an operation in flight keeps
// the frames it is moving. None of them may reach another user's data.

import { describe, expect, it } from 'vitest';
import { attachExtension } from '../../userland/lib/ext.ts';
import { PROT_READ } from '../../userland/lib/sys.ts';
import { MiB, OWNED, PTL, SECRET, getRemote, grabFramesAt, includes, machine, mmapRw, openPortals, overlapping, physOf, putRemote, spawn, waitFor } from './attack.ts';

const BUF = 8 * MiB;

describe('a Portals list entry over memory its owner has unmapped', () => {
  it('never lets uid 2 read or overwrite the uid-1 data that would otherwise reuse the frames (same node and across nodes)', () => {
    const sys = machine(2);
    const s = { pa: -1, unmapped: false, landed: 0, filled: false, attacked: false };
    const seen = { local: new Uint8Array(0) as Uint8Array, remote: new Uint8Array(0) as Uint8Array, victimAfter: new Uint8Array(0) as Uint8Array };
    const attacker = spawn(sys, 0, 2, 'attacker', function* (env) {
      const { P, ni, eq } = yield* openPortals(env);
      const buf = yield* mmapRw(env, BUF);
      s.pa = yield* physOf(env, buf);
      yield* P.PtlLEAppend(ni, 0, { start: buf, length: BUF, options: PTL.ME_OP_PUT | PTL.ME_OP_GET | PTL.ME_EVENT_LINK_DISABLE }, PTL.PRIORITY_LIST, 0);
      expect(yield* env.sys.munmap(buf, BUF)).toBe(0);
      s.unmapped = true;
      yield* waitFor(env, () => s.filled);
      // Same node: through the NIC to its own stale entry.
      seen.local = (yield* getRemote(env, P, ni, eq, { nid: 0, pid: attacker.pid }, 0, 64)).bytes;
      yield* putRemote(env, P, ni, eq, { nid: 0, pid: attacker.pid }, 0, OWNED);
      yield* waitFor(env, () => s.attacked);
    });
    spawn(sys, 1, 2, 'accomplice', function* (env) {
      const { P, ni, eq } = yield* openPortals(env);
      yield* waitFor(env, () => s.filled);
      seen.remote = (yield* getRemote(env, P, ni, eq, { nid: 0, pid: attacker.pid }, 0, 64)).bytes;
      yield* putRemote(env, P, ni, eq, { nid: 0, pid: attacker.pid }, 32, OWNED);
      yield* env.sys.nanosleep(1_000_000);
      s.attacked = true;
    });
    const victim = spawn(sys, 0, 1, 'victim', function* (env) {
      yield* waitFor(env, () => s.unmapped);
      s.landed = yield* grabFramesAt(env, s.pa);
      s.filled = true;
      yield* waitFor(env, () => s.attacked);
      if (s.landed !== 0) seen.victimAfter = yield* env.mem.load(s.landed, 64);
    });
    sys.run({ until: 5e12, done: () => s.attacked && !victim.alive });
    expect(s.filled && s.attacked).toBe(true);
    expect(includes(seen.local, SECRET)).toBe(false);
    expect(includes(seen.remote, SECRET)).toBe(false);
    if (s.landed !== 0) {
      expect(includes(seen.victimAfter, SECRET)).toBe(true);
      expect(includes(seen.victimAfter, OWNED)).toBe(false);
    }
    // The mechanism: the frames the entry holds are given to nobody else while it exists.
    expect(overlapping(sys, 0, victim.pid, s.pa, BUF)).toEqual([]);
  });
});

describe('a memory descriptor over memory its owner has unmapped', () => {
  it('never sends uid-1 data out of the reused frames nor receives a reply into them', () => {
    const sys = machine(2);
    const s = { pa: -1, unmapped: false, landed: 0, filled: false, attacked: false };
    const seen = { leaked: new Uint8Array(0) as Uint8Array, victimAfter: new Uint8Array(0) as Uint8Array };
    let sinkPid = 0;
    const sink = spawn(sys, 1, 2, 'sink', function* (env) {
      const { P, ni } = yield* openPortals(env);
      // Bytes 0..63 receive what the attacker sends; bytes 64.. hold what it gets back.
      const buf = yield* env.mem.alloc(128);
      yield* P.PtlLEAppend(ni, 0, { start: buf, length: 128, options: PTL.ME_OP_PUT | PTL.ME_OP_GET | PTL.ME_EVENT_LINK_DISABLE }, PTL.PRIORITY_LIST, 0);
      yield* env.mem.store(buf + 64, OWNED);
      yield* waitFor(env, () => s.attacked);
      seen.leaked = yield* env.mem.load(buf, 64);
    });
    sinkPid = sink.pid;
    spawn(sys, 0, 2, 'attacker', function* (env) {
      const { P, ni, eq } = yield* openPortals(env);
      const buf = yield* mmapRw(env, BUF);
      s.pa = yield* physOf(env, buf);
      const { md } = yield* P.PtlMDBind(ni, { start: buf, length: BUF, eq_handle: eq });
      expect(yield* env.sys.munmap(buf, BUF)).toBe(0);
      s.unmapped = true;
      yield* waitFor(env, () => s.filled);
      // Get OWNED into the stale MD (a reply lands in its frames) after sending what the frames hold.
      yield* P.PtlPut(md, 0, 64, PTL.ACK_REQ, { nid: 1, pid: sinkPid }, 0, 0n, 0, 0, 0);
      for (;;) if ((yield* P.PtlEQWait(eq)).event!.type === PTL.EVENT_ACK) break;
      yield* P.PtlGet(md, 0, 32, { nid: 1, pid: sinkPid }, 0, 0n, 64, 0);
      for (;;) if ((yield* P.PtlEQWait(eq)).event!.type === PTL.EVENT_REPLY) break;
      s.attacked = true;
    });
    const victim = spawn(sys, 0, 1, 'victim', function* (env) {
      yield* waitFor(env, () => s.unmapped);
      s.landed = yield* grabFramesAt(env, s.pa);
      s.filled = true;
      yield* waitFor(env, () => s.attacked);
      yield* env.sys.nanosleep(100_000);
      if (s.landed !== 0) seen.victimAfter = yield* env.mem.load(s.landed, 64);
    });
    sys.run({ until: 5e12, done: () => s.attacked && !victim.alive && !sink.alive });
    expect(s.attacked).toBe(true);
    expect(includes(seen.leaked, SECRET)).toBe(false);
    if (s.landed !== 0) expect(includes(seen.victimAfter, OWNED)).toBe(false);
    expect(overlapping(sys, 0, victim.pid, s.pa, BUF)).toEqual([]);
  });
});

describe('an extension grant over memory its owner has unmapped', () => {
  it('never lets the atomic-add helper change uid-1 read-only memory in the reused frames', () => {
    const sys = machine(2);
    const GRANT = 2 * MiB;
    const s = { pa: -1, unmapped: false, landed: 0, filled: false, attacked: false };
    const seen = { victimAfter: new Uint8Array(0) as Uint8Array, attachOk: false };
    const attacker = spawn(sys, 0, 2, 'attacker', function* (env) {
      const { P, ni } = yield* openPortals(env);
      const buf = yield* env.mem.alloc(64);
      const le = yield* P.PtlLEAppend(ni, 0, { start: buf, length: 64, options: PTL.ME_OP_PUT | PTL.ME_EVENT_LINK_DISABLE }, PTL.PRIORITY_LIST, 0);
      const grant = yield* mmapRw(env, GRANT);
      s.pa = yield* physOf(env, grant);
      // Adds 0x0101... into the first word of the grant on every message.
      const r = yield* attachExtension(env, { code: 'mov %r1, %r3\nlddw %r2, 0x0101010101010101\ncall 4\nmov %r0, 0\nexit', format: 'asm', entry: le.handle, region: grant, regionLen: 64, payloadMax: 8 });
      seen.attachOk = r.ok;
      expect(yield* env.sys.munmap(grant, GRANT)).toBe(0);
      s.unmapped = true;
      yield* waitFor(env, () => s.attacked);
    });
    spawn(sys, 1, 2, 'trigger', function* (env) {
      const { P, ni, eq } = yield* openPortals(env);
      yield* waitFor(env, () => s.filled);
      yield* putRemote(env, P, ni, eq, { nid: 0, pid: attacker.pid }, 0, new Uint8Array(8));
      yield* env.sys.nanosleep(100_000);
      s.attacked = true;
    });
    const victim = spawn(sys, 0, 1, 'victim', function* (env) {
      yield* waitFor(env, () => s.unmapped);
      s.landed = yield* grabFramesAt(env, s.pa);
      if (s.landed !== 0) yield* env.sys.mprotect(s.landed - (s.landed % 4096), 4096, PROT_READ);
      s.filled = true;
      yield* waitFor(env, () => s.attacked);
      if (s.landed !== 0) seen.victimAfter = yield* env.mem.load(s.landed, 64);
    });
    sys.run({ until: 5e12, done: () => s.attacked && !victim.alive });
    expect(seen.attachOk).toBe(true);
    expect(s.attacked).toBe(true);
    if (s.landed !== 0) expect(seen.victimAfter.subarray(0, SECRET.length)).toEqual(SECRET);
    expect(overlapping(sys, 0, victim.pid, s.pa, GRANT)).toEqual([]);
  });
});

describe('an operation in flight while its memory is unmapped', () => {
  it('deposits a large put only into frames nobody else has been given', () => {
    const sys = machine(2);
    const s = { pa: -1, ready: false, sent: false, unmapped: false, landed: 0, filled: false, done: false };
    const seen = { victimAfter: new Uint8Array(0) as Uint8Array };
    const target = spawn(sys, 0, 2, 'target', function* (env) {
      const { P, ni } = yield* openPortals(env);
      const buf = yield* mmapRw(env, BUF);
      s.pa = yield* physOf(env, buf);
      const le = yield* P.PtlLEAppend(ni, 0, { start: buf, length: BUF, options: PTL.ME_OP_PUT | PTL.ME_EVENT_LINK_DISABLE }, PTL.PRIORITY_LIST, 0);
      s.ready = true;
      yield* waitFor(env, () => s.sent, 5_000);
      // The header has arrived and the DMA is under way: unlink and unmap under it.
      yield* env.sys.nanosleep(100_000);
      yield* P.PtlLEUnlink(le.handle);
      expect(yield* env.sys.munmap(buf, BUF)).toBe(0);
      s.unmapped = true;
      yield* waitFor(env, () => s.done);
    });
    spawn(sys, 1, 2, 'sender', function* (env) {
      const { P, ni, eq } = yield* openPortals(env);
      const src = yield* mmapRw(env, BUF);
      const pattern = new Uint8Array(4096);
      pattern.set(OWNED);
      for (let off = 0; off < BUF; off += 4096) yield* env.mem.store(src + off, pattern);
      const { md } = yield* P.PtlMDBind(ni, { start: src, length: BUF, eq_handle: eq });
      yield* waitFor(env, () => s.ready);
      yield* P.PtlPut(md, 0, BUF, PTL.NO_ACK_REQ, { nid: 0, pid: target.pid }, 0, 0n, 0, 0, 0);
      s.sent = true;
      for (;;) if ((yield* P.PtlEQWait(eq)).event!.type === PTL.EVENT_SEND) break;
      yield* waitFor(env, () => s.filled);
      yield* env.sys.nanosleep(20_000_000);
      s.done = true;
    });
    const victim = spawn(sys, 0, 1, 'victim', function* (env) {
      yield* waitFor(env, () => s.unmapped, 5_000);
      s.landed = yield* grabFramesAt(env, s.pa);
      s.filled = true;
      yield* waitFor(env, () => s.done);
      if (s.landed !== 0) seen.victimAfter = yield* env.mem.load(s.landed, 64);
    });
    sys.run({ until: 5e12, done: () => s.done && !victim.alive });
    expect(s.done).toBe(true);
    if (s.landed !== 0) expect(seen.victimAfter.subarray(0, SECRET.length)).toEqual(SECRET);
    expect(overlapping(sys, 0, victim.pid, s.pa, BUF)).toEqual([]);
  });
});

describe('a get reply waiting in the transmit queue while its entry is unmapped', () => {
  it('sends the entry owner\'s bytes, never those of whoever would get the frames next', () => {
    const sys = machine(2);
    const s = { pa: -1, ready: false, busyTx: false, asked: false, unmapped: false, landed: 0, filled: false };
    let reply: Uint8Array | null = null;
    let getterPid = 0;
    const target = spawn(sys, 0, 2, 'target', function* (env) {
      const { P, ni, eq } = yield* openPortals(env);
      const buf = yield* mmapRw(env, BUF);
      yield* env.mem.store(buf, OWNED);
      s.pa = yield* physOf(env, buf);
      const le = yield* P.PtlLEAppend(ni, 0, { start: buf, length: BUF, options: PTL.ME_OP_GET | PTL.ME_EVENT_LINK_DISABLE }, PTL.PRIORITY_LIST, 0);
      const big = yield* mmapRw(env, BUF);
      const { md } = yield* P.PtlMDBind(ni, { start: big, length: BUF, eq_handle: eq });
      s.ready = true;
      // Long sends keep this NIC's transmit queue busy, so the reply waits behind them.
      for (let i = 0; i < 3; i++) yield* P.PtlPut(md, 0, BUF, PTL.NO_ACK_REQ, { nid: 1, pid: getterPid }, 5, 0n, 0, 0, 0);
      s.busyTx = true;
      yield* waitFor(env, () => s.asked, 2_000);
      yield* env.sys.nanosleep(50_000);
      yield* P.PtlLEUnlink(le.handle);
      expect(yield* env.sys.munmap(buf, BUF)).toBe(0);
      s.unmapped = true;
      yield* waitFor(env, () => reply !== null);
    });
    const getter = spawn(sys, 1, 2, 'getter', function* (env) {
      const { P, ni, eq } = yield* openPortals(env);
      yield* waitFor(env, () => s.busyTx, 2_000);
      const buf = yield* env.mem.alloc(64);
      const { md } = yield* P.PtlMDBind(ni, { start: buf, length: 64, eq_handle: eq });
      yield* P.PtlGet(md, 0, 64, { nid: 0, pid: target.pid }, 0, 0n, 0, 0);
      s.asked = true;
      for (;;) if ((yield* P.PtlEQWait(eq)).event!.type === PTL.EVENT_REPLY) break;
      reply = yield* env.mem.load(buf, 64);
    });
    getterPid = getter.pid;
    const victim = spawn(sys, 0, 1, 'victim', function* (env) {
      yield* waitFor(env, () => s.unmapped, 2_000);
      s.landed = yield* grabFramesAt(env, s.pa);
      s.filled = true;
    });
    sys.run({ until: 5e12, done: () => reply !== null && !victim.alive && !target.alive });
    expect(s.filled).toBe(true);
    expect(reply).not.toBeNull();
    expect(includes(reply!, SECRET)).toBe(false);
    expect(includes(reply!, OWNED)).toBe(true);
    expect(overlapping(sys, 0, victim.pid, s.pa, BUF)).toEqual([]);
  });
});
