// Finding (outside attacker): lwk_kmsg_send handed the NIC the physical
// address of the caller's payload and pinned nothing. With the NIC busy (a
// long put queued ahead), the caller munmapped the payload before the NIC
// read it; the frames went back to the allocator at once, another user's
// process got them, and the NIC sent that user's bytes. Here they would land
// in a job block's version word on a free node, whose kernel NACKs the load
// quoting the word back to the sender. The payload is now pinned from the
// send until the transmit completes (kernel/syscalls/sys_job.ts).
import { describe, expect, it } from 'vitest';
import { KMSG } from '../../kernel/abi.ts';
import { imageOf } from '../../monitor/launch.ts';
import { type KMsgRecord, kmsgBuffer, recvKMsg } from '../../userland/lib/loader.ts';
import { program } from '../../userland/lib/runtime.ts';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';
import { MiB, PTL, SECRET, machine, mmapRw, openPortals, physOf, spawn, waitFor } from '../security/attack.ts';

const tiny = program('tiny', function* () {
  return 0;
});

describe('kernel message payloads', () => {
  it('stay the sender\'s until the NIC has read them, so a munmap cannot hand them to another user first', () => {
    const sys = machine(3);
    sys.kernel(1); // boot the destination node's kernel
    sys.kernel(2);
    const s = { unmapped: false, pa: -1, landed: 0 };
    const answers: KMsgRecord[] = [];
    const attacker = spawn(sys, 0, 2, 'attacker', function* (env) {
      const image = imageOf(tiny);
      const aLen = Math.ceil((image.length + 4) / 4096) * 4096;
      const X = 2 ** 36;
      const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
      // A page just past B first, so the page tables for A and B exist and nothing is allocated between them.
      yield* env.sys.mmap(X + aLen + 4096, 4096, PROT_READ | PROT_WRITE, flags);
      const A = yield* env.sys.mmap(X, aLen, PROT_READ | PROT_WRITE, flags);
      const B = yield* env.sys.mmap(X + aLen, 4096, PROT_READ | PROT_WRITE, flags);
      expect([A, B]).toEqual([X, X + aLen]);
      expect(yield* physOf(env, B)).toBe((yield* physOf(env, A)) + aLen); // physically contiguous
      // payload = image | job block; the block's magic is the last word of A, its version the first word of B.
      const payload = A + aLen - 4 - image.length;
      yield* env.mem.store(payload, image);
      yield* env.mem.store(A + aLen - 4, new Uint8Array([0x4d, 0x4a, 0x4f, 0x42])); // JOB magic 0x424f4a4d
      s.pa = yield* physOf(env, B);
      // Keep the NIC busy with a long put so the kernel message waits in its queue.
      const { P, ni } = yield* openPortals(env);
      const big = yield* mmapRw(env, 32 * MiB);
      const { md } = yield* P.PtlMDBind(ni, { start: big, length: 32 * MiB });
      expect(yield* P.PtlPut(md, 0, 32 * MiB, PTL.NO_ACK_REQ, { nid: 2, pid: 0 }, 0, 0n, 0, 0, 0)).toBe(PTL.OK);
      const rc = yield* env.sys.kmsgSend({ type: KMSG.LOAD, dstNid: 1, dstPid: 100, rank: 0, jobId: 77, payload, payloadLen: image.length + 4 + 252, imageLen: image.length, jobSize: 1 });
      expect(rc).toBe(0);
      expect(yield* env.sys.munmap(B, 4096)).toBe(0);
      s.unmapped = true;
      const buf = yield* kmsgBuffer(env);
      const a = yield* recvKMsg(env, buf, 5e9);
      if (a !== null) answers.push(a);
    });
    spawn(sys, 0, 1, 'victim', function* (env) {
      yield* waitFor(env, () => s.unmapped, 1_000);
      // Take memory until one mapping sits on the freed frame; give the rest back.
      const maps: [number, number][] = [];
      for (let size = 1024 * MiB; size >= 4096 && s.landed === 0; ) {
        const va = yield* mmapRw(env, size);
        if (va < 0 || va > 2 ** 62) {
          size /= 2;
          continue;
        }
        const at = yield* physOf(env, va);
        if (s.pa >= at && s.pa < at + size) {
          s.landed = va + (s.pa - at);
          yield* env.mem.store(s.landed, SECRET);
        } else maps.push([va, size]);
      }
      for (const [va, size] of maps) yield* env.sys.munmap(va, size);
      yield* env.sys.nanosleep(1e9);
    });
    sys.run({ until: 1e13, done: () => !attacker.alive });
    expect(s.pa).toBeGreaterThan(0);
    expect(s.landed).toBe(0); // uid 1 never gets the frame the NIC is about to read
    expect(answers.length).toBe(1); // the load was read and answered (NACKed: its job block is the attacker's)
    const secretWord = new DataView(SECRET.buffer).getUint32(0, true); // "VICT"
    // The NIC must not have carried uid 1's bytes to another node:
    expect(answers.map((a) => a.text).join('\n')).not.toContain(`version ${secretWord}`);
  });
});

describe('a kernel message payload pin', () => {
  it('holds the frames from the send until transmit completion, then frees them once the sender has unmapped them', () => {
    const sys = machine(2);
    sys.kernel(1);
    const k = sys.kernel(0);
    const s = { base: -1, pinnedAfterSend: -1, orphanedAfterUnmap: -1, sent: -1 };
    const sender = spawn(sys, 0, 2, 'sender', function* (env) {
      const image = imageOf(tiny);
      // Busy NIC: the message waits in the transmit queue behind a long put.
      const { P, ni } = yield* openPortals(env);
      const big = yield* mmapRw(env, 32 * MiB);
      const { md } = yield* P.PtlMDBind(ni, { start: big, length: 32 * MiB });
      expect(yield* P.PtlPut(md, 0, 32 * MiB, PTL.NO_ACK_REQ, { nid: 1, pid: 0 }, 0, 0n, 0, 0, 0)).toBe(PTL.OK);
      const len = image.length + 256;
      const buf = yield* mmapRw(env, 64 * 1024);
      yield* env.mem.store(buf, image);
      s.base = yield* physOf(env, buf);
      s.sent = yield* env.sys.kmsgSend({ type: KMSG.LOAD, dstNid: 1, dstPid: 100, rank: 0, jobId: 78, payload: buf, payloadLen: len, imageLen: image.length, jobSize: 1 });
      s.pinnedAfterSend = k.phys.pinCount(s.base);
      expect(yield* env.sys.munmap(buf, 64 * 1024)).toBe(0);
      s.orphanedAfterUnmap = k.phys.orphanedBytes;
      const a = yield* recvKMsg(env, yield* kmsgBuffer(env), 5e9);
      expect(a).not.toBeNull(); // the NACK: by then the NIC has read the payload
    });
    sys.run({ until: 1e13, done: () => !sender.alive });
    expect(sender.exitStatus).toBe(0);
    expect(s.sent).toBe(0);
    expect(s.pinnedAfterSend).toBe(1);
    expect(s.orphanedAfterUnmap).toBeGreaterThanOrEqual(64 * 1024); // unmapped, but not given back while queued
    expect(k.phys.pinCount(s.base)).toBe(0);
    expect(k.phys.orphanedBytes).toBe(0);
  });
});

describe('a process that exits with a kernel message queued', () => {
  it('keeps its payload frames and its address-space id until the NIC has read the payload, then gives both back', () => {
    const sys = machine(2);
    sys.kernel(1);
    const k = sys.kernel(0);
    const s = { base: -1 };
    const sender = spawn(sys, 0, 2, 'sender', function* (env) {
      const image = imageOf(tiny);
      const { P, ni } = yield* openPortals(env);
      const big = yield* mmapRw(env, 32 * MiB);
      const { md } = yield* P.PtlMDBind(ni, { start: big, length: 32 * MiB });
      expect(yield* P.PtlPut(md, 0, 32 * MiB, PTL.NO_ACK_REQ, { nid: 1, pid: 0 }, 0, 0n, 0, 0, 0)).toBe(PTL.OK);
      const buf = yield* mmapRw(env, 64 * 1024);
      yield* env.mem.store(buf, image);
      s.base = yield* physOf(env, buf);
      expect(yield* env.sys.kmsgSend({ type: KMSG.LOAD, dstNid: 1, dstPid: 100, rank: 0, jobId: 79, payload: buf, payloadLen: image.length + 256, imageLen: image.length, jobSize: 1 })).toBe(0);
      // and returns at once: the process ends with the message still queued behind the put
    });
    const asid = sender.aspace.asid;
    sys.run({ until: 1e13, done: () => !sender.alive });
    expect(k.phys.pinCount(s.base)).toBe(1);
    expect(k.asids.isHeld(asid)).toBe(true);
    sys.run({ until: 1e13, done: () => k.phys.pinCount(s.base) === 0 });
    expect(k.phys.pinCount(s.base)).toBe(0);
    expect(k.asids.isHeld(asid)).toBe(false);
    expect(k.phys.orphanedBytes).toBe(0);
  });
});
