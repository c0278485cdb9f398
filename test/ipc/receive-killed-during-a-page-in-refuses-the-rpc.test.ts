// ipc_receive takes the message off the queue, then checks the user buffer,
// which may page in a copy-on-reference page (a blocking request to the
// pager). If the receiving process ends during that page-in, the message it
// took (with the RPC caller's reply right) must still be given up as at any
// death (port-dead: the caller hears -ECONNREFUSED), not lost, leaving the
// caller waiting (its probes find the server's node alive).
import { expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { launch } from '../../monitor/launch.ts';
import { System } from '../../system/system.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';
import { DEFAULT_RTASK } from '../../userland/lib/rtask.ts';

const PAGE = 4096;
const data = new Uint8Array(8 * PAGE).fill(7);
const prog = program('rcvpagein', function* main(env) {
  const rank = yield* env.sys.getrank();
  const ipc = yield* openIpc(env);
  if (rank === 6) {
    const port = yield* ipc.portAlloc();
    yield* ipc.publish(port, 3);
    yield* env.sys.nanosleep(50_000_000); // rank 0's RPC is queued by now
    yield* env.spawn(function* (t) {
      // receive into an untouched data page: the message is taken, then the buffer pages in (3 levels up)
      yield* t.sys.raw(SYS.ipc_receive, port, env.dataVa + 3 * PAGE, 9);
    });
    yield* env.compute(5000);
    return 0; // the process ends while the receive's page-in is in flight
  }
  if (rank !== 0) return 0;
  const srv = yield* ipc.lookup(6, 3, 100_000);
  yield* env.sys.publish('looked_up', 1);
  const buf = yield* env.mem.alloc(64);
  yield* env.sys.publish('rpc', yield* env.sys.raw(SYS.ipc_rpc, srv, buf, 0, buf, 1));
  return 0;
}, { data, dataBytes: data.length, textBytes: 16 * 1024 });

it('an RPC whose server dies while receiving it into a copy-on-reference page is refused, not left waiting', () => {
  const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [9] }, seed: 1, transport: 'dipc' });
  sys.trace.enabled = false;
  const job = launch(sys, {
    load: 'crtc', fanout: { kind: 'binomial' }, programs: [prog], map: [{ firstNid: 0, count: 8, image: 0 }], argv: [], timeoutUs: 10_000_000,
    rtask: { ...DEFAULT_RTASK, algorithm: 'crtc', creation: 'tree', paging: 'tree', vmAreas: 3 },
  });
  // Rank 0's process, to read what it published.
  const k0 = sys.kernel(0);
  const spawned: { results: Map<string, number>; alive: boolean }[] = [];
  const spawn = k0.spawn.bind(k0);
  k0.spawn = ((...a: Parameters<typeof k0.spawn>) => {
    const p = spawn(...a);
    spawned.push(p as never);
    return p;
  }) as typeof k0.spawn;
  sys.run({ done: () => sys.jobDone(job), until: 60e12 });
  const k6 = sys.kernel(6);
  expect(k6.rtask.stats.faults).toBeGreaterThan(0); // the page-in happened
  expect(spawned).toHaveLength(1);
  expect(spawned[0].results.get('looked_up')).toBe(1); // rank 0 has the server's send right and is in its RPC
  // Rank 6's receive took the request; at its death the request went back to the port and was discarded with it.
  expect(k6.ports.stats.delivered).toBe(0);
  expect(k6.ports.stats.dropped).toBe(1);
  expect(spawned[0].alive).toBe(false); // rank 0 ended
  expect(spawned[0].results.get('rpc')).toBe(-111); // -ECONNREFUSED
  expect(sys.jobDone(job)).toBe(true);
});
