// The figures docs/IPC.md publishes, measured on the Paragon profile: the
// null RPC (Table 1), bulk throughput of one message by size, messages in
// flight at once, and what No More Senders adds to a message that carries a
// send right to a third node. figures.test.ts checks the document against them.

import type { PersonalityName } from '../../kernel/ipc/personality.ts';
import APP from '../../userland/apps/ipc_rpc.ts';
import { IPC_NMS, openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';
import { inKernel, machine, us } from './helpers.ts';

export const TRANSPORTS: readonly PersonalityName[] = ['norma', 'dipc'];

export function nullRpcUs(transport: PersonalityName): { local: number; remote: number } {
  const sys = machine({ nodes: 2, transport });
  const job = sys.launchDirect(APP, [0, 1], ['10']);
  sys.run({ done: () => sys.jobDone(job), until: 100e12 });
  const r = Object.fromEntries(job.ranks[0].process!.results);
  return { local: Number(r.local_rpc_ns) / 1000, remote: Number(r.remote_rpc_ns) / 1000 };
}

export const SIZES = [4096, 32768, 262144, 1048576, 4194304] as const;

/** MB/s of one request carrying `bytes` from node 0 to node 1, until its (empty) reply is back. */
export function throughputMBps(transport: PersonalityName, bytes: number): number {
  const sys = machine({ nodes: 2, transport });
  let start = 0;
  let end = 0;
  sys.kernel(1).ipc.serve('bulk', function* (req) {
    yield* req.reply([]);
  });
  inKernel(sys, 0, function* () {
    start = sys.now;
    yield* sys.kernel(0).ipc.request(1, 'bulk', [], { bytes: new Uint8Array(bytes) }, function* () {
      end = sys.now;
    });
  });
  sys.run({ until: 1e14 });
  return bytes / us(end - start);
}

/** Microseconds until 8 requests of 64 KiB from node 0 are all answered: to 8 services on one node, or to 8 nodes. */
export function eightRequestsUs(transport: PersonalityName, spread: 'one node' | 'eight nodes'): number {
  const sys = machine({ nodes: 9, transport });
  const services = ['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7'];
  for (let n = 1; n <= 8; n++)
    for (const s of services)
      sys.kernel(n).ipc.serve(s, function* (req) {
        yield* req.reply([]);
      });
  let last = 0;
  inKernel(sys, 0, function* () {
    for (let i = 0; i < 8; i++)
      yield* sys.kernel(0).ipc.request(spread === 'one node' ? 1 : i + 1, services[i], [], { bytes: new Uint8Array(65536) }, function* () {
        last = sys.now;
      });
  });
  sys.run({ until: 1e14 });
  return us(last);
}

/** Microseconds from a send on node 1 to its receipt on node 2, for a message carrying a send right to a port on node 0 (with and without NMS). */
export function carryRightUs(transport: PersonalityName, nms: boolean): number {
  const sys = machine({ nodes: 3, transport });
  const main = program('nms', function* (env) {
    const ipc = yield* openIpc(env);
    const rank = yield* env.sys.getrank();
    if (rank === 0) {
      const p = yield* ipc.portAlloc(nms ? IPC_NMS : 0);
      yield* ipc.publish(p, 1);
      yield* ipc.receive(p);
    } else if (rank === 1) {
      const p = yield* ipc.lookup(0, 1, 10e9);
      const q = yield* ipc.lookup(2, 2, 10e9);
      yield* ipc.send(q, [yield* env.sys.clockNs()], p);
      yield* ipc.send(q, [], -1);
    } else {
      const q = yield* ipc.portAlloc();
      yield* ipc.publish(q, 2);
      const m = yield* ipc.receive(q);
      yield* env.sys.publish('us', ((yield* env.sys.clockNs()) - m.words[0]) / 1000);
      yield* ipc.receive(q);
      yield* ipc.send(m.carried, []);
    }
  });
  const job = sys.launchDirect(main, [0, 1, 2], []);
  sys.run({ done: () => sys.jobDone(job), until: 100e12 });
  return Number(job.ranks[2].process!.results.get('us'));
}

const TABLE_1 = { norma: [220, 2070], dipc: [318, 1272] } as const;

/** The rows of docs/IPC.md's figure tables, by placeholder name. */
export function figureRows(): Record<string, string> {
  const rpc = TRANSPORTS.map((t) => {
    const r = nullRpcUs(t);
    return `| ${t} | ${TABLE_1[t][0]} us | ${r.local.toFixed(0)} us | ${TABLE_1[t][1]} us | ${r.remote.toFixed(0)} us |`;
  });
  const bw = TRANSPORTS.map((t) => `| ${t} | ${SIZES.map((s) => throughputMBps(t, s).toFixed(1)).join(' | ')} |`);
  const eight = TRANSPORTS.map((t) => `| ${t} | ${eightRequestsUs(t, 'one node').toFixed(0)} | ${eightRequestsUs(t, 'eight nodes').toFixed(0)} |`);
  const nms = TRANSPORTS.map((t) => `| ${t} | ${carryRightUs(t, false).toFixed(0)} | ${carryRightUs(t, true).toFixed(0)} |`);
  return { FIGURE_RPC: rpc.join('\n'), FIGURE_BW: bw.join('\n'), FIGURE_EIGHT: eight.join('\n'), FIGURE_NMS: nms.join('\n') };
}

