// Hostile ipc_* arguments and cross-uid use of ports (docs/IPC.md, docs/SECURITY.md).

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { ERRNO } from '../../kernel/errno.ts';
import { System } from '../../system/system.ts';
import { openIpc } from '../../userland/lib/ipc.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';

function machine(transport: 'norma' | 'dipc', nodes = 3): System {
  const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [nodes] }, seed: 1, transport });
  return sys;
}
const E = (e: keyof typeof ERRNO) => -ERRNO[e];

describe('ipc ports against hostile arguments and other uids', () => {
  it('answers every hostile argument with -errno, never a host error, oops or hang', () => {
    const prog = program('ipc_hostile', function* main(env) {
      const { sys, mem } = env;
      const buf = yield* mem.alloc(4096);
      const recv = yield* sys.raw(SYS.ipc_port_alloc, 0);
      const send = yield* sys.raw(SYS.ipc_make_send, recv);
      const tries: Record<string, () => Generator<any, number, any>> = {
        alloc_flags: () => sys.raw(SYS.ipc_port_alloc, 2n ** 63n),
        make_send_neg: () => sys.raw(SYS.ipc_make_send, -1),
        make_send_huge: () => sys.raw(SYS.ipc_make_send, 2n ** 62n),
        make_send_from_send: () => sys.raw(SYS.ipc_make_send, send),
        dealloc_forged: () => sys.raw(SYS.ipc_dealloc, 12345),
        publish_key_neg: () => sys.raw(SYS.ipc_publish, recv, -5),
        publish_key_huge: () => sys.raw(SYS.ipc_publish, recv, 2n ** 40n),
        lookup_nid_neg: () => sys.raw(SYS.ipc_lookup, -1, 1, 0),
        lookup_nid_huge: () => sys.raw(SYS.ipc_lookup, 2n ** 50n, 1, 0),
        lookup_nid_max: () => sys.raw(SYS.ipc_lookup, 2n ** 64n - 1n, 1, 0),
        lookup_timeout_neg: () => sys.raw(SYS.ipc_lookup, 0, 1, -1),
        lookup_timeout_past_max: () => sys.raw(SYS.ipc_lookup, 0, 1, 60e9 + 1),
        lookup_timeout_huge: () => sys.raw(SYS.ipc_lookup, 0, 1, 2n ** 62n),
        send_nwords_huge: () => sys.raw(SYS.ipc_send, send, buf, 2n ** 62n, -1),
        send_nwords_neg: () => sys.raw(SYS.ipc_send, send, buf, 2n ** 64n - 1n, -1),
        send_buf_kernel: () => sys.raw(SYS.ipc_send, send, 2n ** 63n, 6, -1),
        send_buf_null: () => sys.raw(SYS.ipc_send, send, 0, 6, -1),
        send_buf_past_end: () => sys.raw(SYS.ipc_send, send, 2n ** 47n - 8n, 6, -1),
        send_carry_forged: () => sys.raw(SYS.ipc_send, send, buf, 0, 999),
        send_carry_huge: () => sys.raw(SYS.ipc_send, send, buf, 0, 2n ** 62n),
        send_to_receive: () => sys.raw(SYS.ipc_send, recv, buf, 0, -1),
        reply_with_send: () => sys.raw(SYS.ipc_reply, send, buf, 0),
        receive_on_send: () => sys.raw(SYS.ipc_receive, send, buf, 9),
        receive_max_small: () => sys.raw(SYS.ipc_receive, recv, buf, 2),
        rpc_nwords: () => sys.raw(SYS.ipc_rpc, send, buf, 7, buf, 6),
      };
      for (const [name, f] of Object.entries(tries)) yield* sys.publish(name, yield* f());
      return 0;
    });
    for (const transport of ['norma', 'dipc'] as const) {
      const sys = machine(transport);
      const job = sys.launchDirect(prog, [0], []);
      const stop = sys.run({ done: () => sys.jobDone(job), until: 10e12 });
      const p = job.ranks[0].process!;
      const r = Object.fromEntries(p.results);
      expect(stop.kind).toBe('done');
      expect(sys.jobDone(job)).toBe(true);
      for (const [k, v] of Object.entries(r)) expect(v, k).toBeLessThan(0);
      expect(sys.kernel(0).oopsLog ?? []).toEqual([]);
    }
  });

  it('leaves a message queued when ipc_receive cannot copy it into a bad buffer', () => {
    const prog = program('ipc_lost', function* main(env) {
      const { sys } = env;
      const ipc = yield* openIpc(env);
      const recv = yield* ipc.portAlloc();
      const send = yield* ipc.makeSend(recv);
      yield* ipc.send(send, [42], send);
      yield* sys.publish('bad_receive', yield* sys.raw(SYS.ipc_receive, recv, 0x10, 9));
      // Is the message still there? A send-to-self afterwards tells the two apart.
      yield* ipc.send(send, [43]);
      const m = yield* ipc.receive(recv);
      yield* sys.publish('next_word', m.words[0]);
      return 0;
    });
    const sys = machine('dipc');
    const job = sys.launchDirect(prog, [0], []);
    sys.run({ done: () => sys.jobDone(job), until: 10e12 });
    const r = Object.fromEntries(job.ranks[0].process!.results);
    expect(r.bad_receive).toBe(E('EFAULT'));
    // Expected (a receive that fails to copy out leaves the message queued): 42.
    expect(r.next_word).toBe(42);
  });

  it('lets no process of another uid take a name-server key or answer lookups of it', () => {
    // uid 1001 runs a server on node 0 that publishes key 5; its client on node 1 looks key 5 up and RPCs.
    const server = program('victim_server', function* main(env) {
      const ipc = yield* openIpc(env);
      yield* env.sys.nanosleep(1_000_000); // starts a little after the squatter
      const port = yield* ipc.portAlloc();
      yield* env.sys.publish('server_publish', yield* env.sys.raw(SYS.ipc_publish, port, 5));
      return 0;
    });
    const client = program('victim_client', function* main(env) {
      const ipc = yield* openIpc(env);
      yield* env.sys.nanosleep(5_000_000);
      const srv = yield* ipc.lookup(0, 5, 10e9);
      const ans = yield* ipc.rpc(srv, [1234]);
      yield* env.sys.publish('client_answer', ans[0]);
      return 0;
    });
    // uid 2002, on the victim's server node: publishes key 5 first, receives the client's RPC, answers 666.
    const squatter = program('squatter', function* main(env) {
      const ipc = yield* openIpc(env);
      const port = yield* ipc.portAlloc();
      yield* env.sys.publish('squat', yield* env.sys.raw(SYS.ipc_publish, port, 5));
      const m = yield* ipc.receive(port);
      yield* env.sys.publish('stolen_word', m.words[0]);
      yield* ipc.reply(m.reply, [666]);
      return 0;
    });
    const sys = machine('dipc');
    const s = sys.launchDirect(squatter, [0], [], 2002);
    const v = sys.launchDirect(server, [0], [], 1001);
    const c = sys.launchDirect(client, [1], [], 1001);
    sys.run({ done: () => sys.jobDone(v) && sys.jobDone(s) && sys.jobDone(c), until: 10e12 });
    const res = (j: typeof v) => Object.fromEntries(j.ranks[0].process!.results);
    // What happens: the squatter got key 5 (0), the server -EEXIST, the client's RPC went to uid 2002 and got 666.
    // Expected (ports of one uid not reachable or impersonated by another): the server's publish succeeds.
    expect(res(v).server_publish).toBe(0);
    expect(res(c).client_answer).not.toBe(666);
  });
});
