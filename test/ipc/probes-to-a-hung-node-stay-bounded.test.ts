// An RPC whose server's node hangs is given up after its probes go
// unanswered (rpc-server-node-dies.test.ts). What it sent must not stay
// behind: the third review of #14 found that a probe sent to a hung node
// stayed in the caller's list of requests waiting for replies, one more per
// RPC given up. A long run of RPCs given up against a hung node must keep
// the caller's node holding at most a few requests and transport messages,
// and an RPC whose caller was killed must stop probing.

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { ERRNO } from '../../kernel/errno.ts';
import { RPC_PROBE_PS } from '../../kernel/ipc/probes.ts';
import { System } from '../../system/system.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';

const RPCS = 12;

function run(transport: 'norma' | 'dipc', killCaller: boolean) {
  const server = program('server', function* main(env) {
    const ipc = yield* openIpc(env);
    const port = yield* ipc.portAlloc();
    yield* ipc.publish(port, 5);
    for (;;) yield* ipc.receive(port); // takes RPCs and never answers (it keeps their reply rights)
  });
  const client = program('client', function* main(env) {
    const ipc = yield* openIpc(env);
    const srv = yield* ipc.lookup(0, 5, 10e9);
    const buf = yield* env.mem.alloc(64);
    let unreachable = 0;
    for (let i = 0; i < RPCS; i++) if ((yield* env.sys.raw(SYS.ipc_rpc, srv, buf, 0, buf, 6)) === -ERRNO.EHOSTUNREACH) unreachable++;
    yield* env.sys.publish('unreachable', unreachable);
    return 0;
  });
  const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [2] }, seed: 1, transport });
  sys.launchDirect(server, [0], []);
  const c = sys.launchDirect(client, [1], []);
  sys.run({ done: () => sys.kernel(0).ports.stats.delivered > 0, until: 1e12 });
  const k1 = sys.kernel(1);
  if (killCaller) {
    // The caller dies in its RPC while the server's node still answers probes, then that node hangs.
    sys.run({ until: sys.now + RPC_PROBE_PS / 2 });
    k1.killProcess(c.ranks[0].process!, 137, 'killed by the test');
    sys.hangKernel(0);
    sys.run({ until: sys.now + 3 * RPC_PROBE_PS });
    const probesBefore = k1.ipc.transport.stats.messagesSent;
    sys.run({ until: sys.now + 20 * RPC_PROBE_PS });
    return { sys, k1, probesLater: k1.ipc.transport.stats.messagesSent - probesBefore, r: {} as Record<string, number> };
  }
  sys.hangKernel(0);
  sys.run({ done: () => sys.jobDone(c), until: sys.now + (RPCS * 3 + 5) * RPC_PROBE_PS });
  return { sys, k1, probesLater: 0, r: Object.fromEntries(c.ranks[0].process!.results) };
}

describe('RPCs given up against a hung node', () => {
  for (const transport of ['norma', 'dipc'] as const) {
    it(`leave the caller's node holding at most one probe and no messages for that node (${transport}, ${RPCS} RPCs)`, () => {
      const { k1, r } = run(transport, false);
      expect(r.unreachable).toBe(RPCS);
      expect(k1.ipc.waiting).toBeLessThanOrEqual(1);
      expect(k1.ipc.transport.inFlight).toBeLessThanOrEqual(1);
    });

    it(`stop probing once the RPC's caller was killed (${transport})`, () => {
      const { k1, probesLater } = run(transport, true);
      expect(probesLater).toBe(0);
      expect(k1.ipc.waiting).toBeLessThanOrEqual(1);
      expect(k1.ports.probes.outstanding).toBeLessThanOrEqual(1);
    });
  }
});
