// Found by review (issue #13): an opener whose endpoint went while its OPEN
// was unanswered sent no CLOSE, so the peer's kernel kept the end it had
// accepted, and the peer's sends on it were reported OK and dropped. Now the
// CLOSE follows the OPEN: the peer's sends come back BAD_CHANNEL.
import { describe, expect, it } from 'vitest';
import { unetCreate, unetFlush, unetOpen, unetSend, unetSendStatus, UNET_STATUS } from '../../userland/lib/unet.ts';
import { machine, spawn, waitFor } from '../security/attack.ts';

describe('an opener that dies while its open is unanswered', () => {
  it('leaves no half-open channel at the peer: the peer\'s sends come back BAD_CHANNEL', () => {
    const sys = machine(2);
    const s = { peerPid: 0, openerPid: 0, opening: false, statuses: [] as number[], accepted: false };
    const peer = spawn(sys, 1, 1000, 'peer', function* (env) {
      const ep = yield* unetCreate(env, { entries: 4, bufBytes: 64 });
      s.peerPid = yield* env.sys.getpid();
      yield* waitFor(env, () => s.accepted, 1000);
      yield* env.sys.nanosleep(200_000);
      for (let i = 0; i < 3; i++) {
        yield* unetSend(env, ep, 0, ep.queues.buffers, 8);
        yield* unetFlush(env, ep);
        yield* env.sys.nanosleep(10_000);
        s.statuses.push(yield* unetSendStatus(env, ep, i));
      }
    });
    const opener = spawn(sys, 0, 1000, 'opener', function* (env) {
      yield* waitFor(env, () => s.peerPid !== 0, 1000);
      const ep = yield* unetCreate(env, { entries: 4, bufBytes: 64 });
      s.opening = true;
      yield* unetOpen(env, ep, 0, { nid: 1, pid: s.peerPid, ep: 1, chan: 0 });
    });
    // Run until the peer's kernel has accepted (its channel 0 exists), then kill the opener before the ACCEPT is back.
    const k1 = sys.kernel(1);
    sys.run({ until: 1e12, done: () => s.opening && k1.unet.all().some((e) => e.channels.has(0)) });
    expect(opener.alive).toBe(true);
    sys.kernel(0).killProcess(opener, 9, 'killed');
    s.accepted = true;
    sys.run({ until: 1e12, done: () => !peer.alive });
    expect(s.statuses).toEqual([UNET_STATUS.BAD_CHANNEL, UNET_STATUS.BAD_CHANNEL, UNET_STATUS.BAD_CHANNEL]);
  });
});
