// An RPC whose server's node dies (or hangs) after taking the request: the
// request was delivered and acknowledged, so the transport has nothing to
// retransmit; the caller's kernel probes the server's node while the answer
// is due and returns -EHOSTUNREACH once it stops answering. A server that is
// merely slow keeps answering the probes and its RPC completes.

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { ERRNO } from '../../kernel/errno.ts';
import { RPC_PROBE_PS } from '../../kernel/ipc/probes.ts';
import { System } from '../../system/system.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';

function run(transport: 'norma' | 'dipc', fate: 'down' | 'hung' | 'slow') {
  const server = program('server', function* main(env) {
    const ipc = yield* openIpc(env);
    const port = yield* ipc.portAlloc();
    yield* ipc.publish(port, 5);
    const m = yield* ipc.receive(port); // takes the RPC
    yield* env.sys.nanosleep(3e9); // answers only 3 s later (if its node is still there)
    yield* ipc.reply(m.reply, [42]);
    return 0;
  });
  const client = program('client', function* main(env) {
    const ipc = yield* openIpc(env);
    yield* env.sys.publish('lookup_down', yield* env.sys.raw(SYS.ipc_lookup, 2, 5, 0));
    const srv = yield* ipc.lookup(0, 5, 10e9);
    const buf = yield* env.mem.alloc(64);
    const t0 = yield* env.sys.clockNs();
    yield* env.sys.publish('rpc', yield* env.sys.raw(SYS.ipc_rpc, srv, buf, 0, buf, 6));
    yield* env.sys.publish('rpc_ns', (yield* env.sys.clockNs()) - t0);
    return 0;
  });
  const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [3] }, seed: 1, transport });
  sys.machine.network.setNodeDown(2, true);
  sys.launchDirect(server, [0], []);
  const c = sys.launchDirect(client, [1], []);
  // The server's node goes once the server holds the request.
  sys.run({ done: () => sys.kernel(0).ports.stats.delivered > 0, until: 1e12 });
  if (fate === 'down') sys.machine.network.setNodeDown(0, true);
  if (fate === 'hung') sys.hangKernel(0);
  sys.run({ done: () => sys.jobDone(c), until: sys.now + 600e12 });
  return { done: sys.jobDone(c), r: Object.fromEntries(c.ranks[0].process!.results) };
}

describe('an RPC whose server\'s node dies after taking the request', () => {
  for (const transport of ['norma', 'dipc'] as const) {
    for (const fate of ['down', 'hung'] as const) {
      it(`returns -EHOSTUNREACH within two probe intervals when the node is ${fate}, never hangs (${transport})`, () => {
        const { done, r } = run(transport, fate);
        expect(r.lookup_down).toBe(-ERRNO.EHOSTUNREACH);
        expect(done).toBe(true);
        expect(r.rpc).toBe(-ERRNO.EHOSTUNREACH);
        expect(r.rpc_ns).toBeLessThanOrEqual((2 * RPC_PROBE_PS) / 1e3 + 1e6);
      });
    }
    it(`completes the RPC of a server that is slow but alive (its node answers the probes) (${transport})`, () => {
      const { done, r } = run(transport, 'slow');
      expect(done).toBe(true);
      expect(r.rpc).toBe(1);
      expect(r.rpc_ns).toBeGreaterThan(3e9);
    });
  }
});
