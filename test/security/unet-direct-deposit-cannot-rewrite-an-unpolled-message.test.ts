// Issue 13: a direct deposit (UNET_FLAG.DIRECT, a remote offset) could land
// anywhere in the receiver's buffer area, including the library's receive
// buffers, so a peer could change a message that had arrived but that the
// receiver had not polled yet. The receiver now declares a direct-access
// area (segment header words the NIC reads at each deposit); the NIC drops
// a deposit outside it, counts it, and tells the sender (DIRECT_REFUSED).

import { describe, expect, it } from 'vitest';
import { UNET_STATUS, type UnetMessage, unetBuffer, unetCreate, unetFlush, unetOpen, unetPoll, unetRelease, unetSend } from '../../userland/lib/unet.ts';
import { machine, spawn, waitFor } from './attack.ts';

const GENUINE = new TextEncoder().encode('TRANSFER 10 TO ALICE');
const FORGED = new TextEncoder().encode('TRANSFER 99 TO MALLO');

/** Receiver and attacker of one uid on two nodes; the receiver polls only once both messages are in. Returns what it read and what the attacker was told. */
function attack(directBytes: number) {
  const sys = machine(2);
  const s = { ready: false, sent: false, read: '', receiverArea: -1, told: [] as UnetMessage[], aimedAt: -1, refusedAtNic: -1 };
  let attackerPid = 0;
  const receiver = spawn(sys, 0, 1, 'receiver', function* (env) {
    const ep = yield* unetCreate(env, { entries: 8, directBytes });
    s.receiverArea = ep.direct.offset;
    s.ready = true;
    yield* unetOpen(env, ep, 0, { nid: 1, pid: attackerPid, ep: 1, chan: 0 });
    // Busy elsewhere: both messages have arrived before it looks.
    yield* waitFor(env, () => s.sent);
    yield* env.sys.nanosleep(200_000);
    const m = (yield* unetPoll(env, ep))!;
    s.read = new TextDecoder().decode(yield* env.mem.load(ep.va + m.offset, m.len));
    yield* unetRelease(env, ep, m);
    expect(yield* unetPoll(env, ep)).toBeNull();
    s.refusedAtNic = sys.kernel(0).node.nic.unet.allEndpoints()[0].stats.directRefused;
  });
  const attacker = spawn(sys, 1, 1, 'attacker', function* (env) {
    const ep = yield* unetCreate(env, { entries: 8 });
    yield* waitFor(env, () => s.ready);
    yield* unetOpen(env, ep, 0, { nid: 0, pid: receiver.pid, ep: 1, chan: 0 });
    // The first message lands in the receiver's first free buffer (the library's layout is public)...
    yield* env.mem.store(ep.va + unetBuffer(ep, 0), GENUINE);
    yield* unetSend(env, ep, 0, unetBuffer(ep, 0), GENUINE.length);
    // ...and a direct deposit right behind it rewrites that buffer before the receiver polls.
    yield* env.mem.store(ep.va + unetBuffer(ep, 1), FORGED);
    s.aimedAt = unetBuffer(ep, 8);
    yield* unetSend(env, ep, 0, unetBuffer(ep, 1), FORGED.length, { direct: s.aimedAt });
    yield* unetFlush(env, ep);
    s.sent = true;
    yield* env.sys.nanosleep(100_000);
    for (let m = yield* unetPoll(env, ep); m !== null; m = yield* unetPoll(env, ep)) {
      s.told.push(m);
      yield* unetRelease(env, ep, m);
    }
  });
  attackerPid = attacker.pid;
  sys.run({ until: 1e12, done: () => !receiver.alive && !attacker.alive });
  return { s, receiver, attacker, sys };
}

describe('U-Net direct access: a peer rewrites a message the receiver has not polled yet', () => {
  it('cannot: the receiver reads what was sent, and the attacker is told its deposit was refused (no direct-access area declared)', () => {
    const { s, receiver, attacker } = attack(0);
    expect([receiver.alive, attacker.alive]).toEqual([false, false]);
    expect(s.read).toBe('TRANSFER 10 TO ALICE');
    expect(s.told.map((m) => [m.chan, m.status, m.len, m.roffset])).toEqual([[0, UNET_STATUS.DIRECT_REFUSED, 0, s.aimedAt]]);
    expect(s.refusedAtNic).toBe(1);
  });

  it('cannot either when the receiver has opened a direct-access area: the area lies past the library\'s receive buffers', () => {
    const { s } = attack(4096);
    expect(s.receiverArea).toBeGreaterThan(0);
    expect(s.read).toBe('TRANSFER 10 TO ALICE');
    expect(s.told.map((m) => m.status)).toEqual([UNET_STATUS.DIRECT_REFUSED]);
    expect(s.refusedAtNic).toBe(1);
  });
});
