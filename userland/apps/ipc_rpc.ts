// ipc_rpc: the null RPC of seed 002's Table 1, local and remote. Rank 0
// makes a port and a server thread that answers every RPC on it; rank 0's
// main thread then times `iterations` null RPCs to it (local: both on rank
// 0's node), then tells rank 1, which times as many from its own node
// (remote) and sends its figure back on the right the go message gave it. Rank 0
// publishes local_rpc_ns and remote_rpc_ns (the mean of one RPC) and the
// transport the kernels use is whatever the run chose (--transport). With
// one rank only the local RPC is measured.
// Usage: margay run ipc_rpc --load direct --nodes 2 [--transport norma|dipc] -- [iterations]

import { type Ipc, openIpc } from '../lib/ipc.ts';
import type { U } from '../lib/ops.ts';
import { type Env, program } from '../lib/runtime.ts';

const SERVICE_KEY = 1;
const GO_KEY = 2;
/** How long rank 0 waits for rank 1's go port to be published (its node's name server answers at publish). */
const NAME_WAIT_NS = 10e9;
/** The word that tells the server thread to stop. */
const STOP = -1;

export default program('ipc_rpc', function* main(env) {
  const { sys } = env;
  const iterations = env.argv.length > 1 ? Number(env.argv[1]) : 20;
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > 100_000) {
    yield* sys.print('ipc_rpc: iterations must be a whole number from 1 to 100000\n', 2);
    return 2;
  }
  const rank = yield* sys.getrank();
  // One rank: the local RPC only.
  const remoteToo = (yield* sys.getsize()) >= 2;
  if (rank > 1) return 0;
  const ipc = yield* openIpc(env);
  const map = yield* sys.jobMap();
  const nid0 = map[0].nid;

  if (rank === 1) {
    // Rank 1 waits (without polling, which would load rank 0's node) until rank 0's local
    // measurement is over: the go message carries a send right to where the result goes.
    const go = yield* ipc.portAlloc();
    yield* ipc.publish(go, GO_KEY);
    const results = (yield* ipc.receive(go)).carried;
    // Published before rank 0 sent the go message, so it is there already; the wait only says how long is too long.
    const server = yield* ipc.lookup(nid0, SERVICE_KEY, NAME_WAIT_NS);
    const remote = yield* timeRpc(ipc, env, server, iterations);
    yield* ipc.send(results, [Math.round(remote)]);
    return 0;
  }

  const port = yield* ipc.portAlloc();
  yield* ipc.publish(port, SERVICE_KEY);
  const serverThread = yield* env.spawn(function* (t) {
    const server = yield* openIpc(t);
    for (;;) {
      const m = yield* server.receive(port);
      if (m.reply >= 0) yield* server.reply(m.reply, []);
      if (m.words[0] === STOP) return 0;
    }
  });
  const self = yield* ipc.makeSend(port);
  const local = yield* timeRpc(ipc, env, self, iterations);
  let remote = -1;
  if (remoteToo) {
    const results = yield* ipc.portAlloc();
    yield* ipc.send(yield* ipc.lookup(map[1].nid, GO_KEY, NAME_WAIT_NS), [], results);
    remote = (yield* ipc.receive(results)).words[0];
  }
  yield* ipc.rpc(self, [STOP]);
  yield* env.join(serverThread);
  yield* sys.publish('local_rpc_ns', Math.round(local));
  if (remoteToo) yield* sys.publish('remote_rpc_ns', remote);
  yield* sys.print(`null RPC: local ${(local / 1000).toFixed(1)} us${remoteToo ? `, remote ${(remote / 1000).toFixed(1)} us` : ' (one rank: no remote)'} (${iterations} each)\n`);
  return 0;
});

/** Mean ns of one null RPC to `name` (after one to warm up). */
function* timeRpc(ipc: Ipc, env: Env, name: number, iterations: number): U<number> {
  yield* ipc.rpc(name, []);
  const t0 = yield* env.sys.clockNs();
  for (let i = 0; i < iterations; i++) yield* ipc.rpc(name, []);
  return ((yield* env.sys.clockNs()) - t0) / iterations;
}
