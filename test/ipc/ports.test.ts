import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../kernel/errno.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { IPC_KIND, IPC_NMS, openIpc } from '../../userland/lib/ipc.ts';
import { type Main, program } from '../../userland/lib/runtime.ts';
import APPS from '../../userland/apps/ipc_rpc.ts';
import { machine } from './helpers.ts';
import type { PersonalityName } from '../../kernel/ipc/personality.ts';

/** Runs `main` as one rank on each of `nodes` nodes; returns every rank's published results and the system. */
function runRanks(main: Main, nodes: number, transport: PersonalityName = 'dipc', argv: string[] = []) {
  const sys = machine({ nodes, transport });
  const job = sys.launchDirect(program('t', main), Array.from({ length: nodes }, (_, i) => i), ['t', ...argv]);
  sys.run({ done: () => sys.jobDone(job), until: 100e12 });
  const ranks = job.ranks.map((r) => ({ status: r.process?.exitStatus, reason: r.process?.exitReason, results: Object.fromEntries(r.process?.results ?? []), out: r.process?.stdout.join('') ?? '' }));
  return { sys, ranks };
}

const KEY = 7;

describe('ports across nodes', () => {
  for (const transport of ['norma', 'dipc'] as const) {
    it(`answers an RPC with the server's words, between threads of a task and between nodes (${transport})`, () => {
      const { ranks } = runRanks(
        function* (env) {
          const ipc = yield* openIpc(env);
          const rank = yield* env.sys.getrank();
          if (rank === 0) {
            const port = yield* ipc.portAlloc();
            yield* ipc.publish(port, KEY);
            const th = yield* env.spawn(function* (t) {
              const s = yield* openIpc(t);
              for (let i = 0; i < 2; i++) {
                const m = yield* s.receive(port);
                yield* s.reply(m.reply, [m.words[0] * 2, m.words[1] + 1]);
              }
            });
            const r = yield* ipc.rpc(yield* ipc.lookup(0, KEY), [21, 1]);
            yield* env.sys.publish('local', r[0] * 1000 + r[1]);
            yield* env.join(th);
          } else {
            const r = yield* ipc.rpc(yield* ipc.lookup(0, KEY, 10e9), [50, 9]);
            yield* env.sys.publish('remote', r[0] * 1000 + r[1]);
          }
        },
        2,
        transport,
      );
      expect(ranks[0].results.local).toBe(42002);
      expect(ranks[1].results.remote).toBe(100010);
    });
  }

  it('refuses a name the task was never given (-EBADF), and names are per task', () => {
    const { ranks, sys } = runRanks(function* (env) {
      const { sys } = env;
      const ipc = yield* openIpc(env);
      const rank = yield* sys.getrank();
      const buf = yield* env.mem.alloc(64);
      if (rank === 0) {
        const port = yield* ipc.portAlloc();
        const send = yield* ipc.makeSend(port);
        yield* ipc.publish(port, KEY);
        yield* sys.publish('send_name', send);
        // Wait for rank 1's forged attempts, then one honest message.
        const m = yield* ipc.receive(port);
        yield* sys.publish('got', m.words[0]);
        return;
      }
      // Rank 1 guesses names: rank 0's own send name, small numbers, a huge one.
      const forged = [0, 1, 64, 65, 129, 4097, 2 ** 40];
      let bad = 0;
      for (const n of forged) {
        if ((yield* sys.raw(SYS.ipc_send, n, buf, 0, -1)) === -ERRNO.EBADF) bad++;
        if ((yield* sys.raw(SYS.ipc_rpc, n, buf, 0, buf, 1)) === -ERRNO.EBADF) bad++;
        if ((yield* sys.raw(SYS.ipc_receive, n, buf, 8)) === -ERRNO.EBADF) bad++;
        if ((yield* sys.raw(SYS.ipc_dealloc, n)) === -ERRNO.EBADF) bad++;
        if ((yield* sys.raw(SYS.ipc_make_send, n)) === -ERRNO.EBADF) bad++;
        if ((yield* sys.raw(SYS.ipc_reply, n, buf, 0)) === -ERRNO.EBADF) bad++;
      }
      yield* sys.publish('refused', bad);
      yield* ipc.send(yield* ipc.lookup(0, KEY, 10e9), [77]);
    }, 2);
    expect(ranks[1].results.refused).toBe(7 * 6);
    expect(ranks[0].results.got).toBe(77);
    expect(sys.kernel(1).ports.stats.forgeries).toBe(7 * 6);
  });

  it('does not let a freed name reach the right that later reuses its slot', () => {
    const { ranks } = runRanks(function* (env) {
      const { sys } = env;
      const ipc = yield* openIpc(env);
      const buf = yield* env.mem.alloc(64);
      const a = yield* ipc.portAlloc();
      const b = yield* ipc.portAlloc();
      const sa = yield* ipc.makeSend(a);
      yield* ipc.dealloc(sa);
      const sb = yield* ipc.makeSend(b);
      yield* sys.publish('reused_differs', sb !== sa ? 1 : 0);
      yield* sys.publish('stale', yield* sys.raw(SYS.ipc_send, sa, buf, 0, -1));
      // Nothing reached b through the stale name: the first message b sees is the honest one.
      yield* ipc.send(sb, [5]);
      yield* sys.publish('b_first', (yield* ipc.receive(b)).words[0]);
      // A freed receive right: the port is gone and its name is dead.
      yield* ipc.dealloc(a);
      yield* sys.publish('dead_receive', yield* sys.raw(SYS.ipc_receive, a, buf, 8));
    }, 1);
    expect(ranks[0].results).toMatchObject({ reused_differs: 1, stale: -ERRNO.EBADF, b_first: 5, dead_receive: -ERRNO.EBADF });
  });

  it('answers an RPC to a port that died with -ECONNREFUSED, and a new port never gets the old one\'s messages', () => {
    const { ranks } = runRanks(function* (env) {
      const { sys } = env;
      const ipc = yield* openIpc(env);
      const rank = yield* sys.getrank();
      if (rank === 0) {
        const old = yield* ipc.portAlloc();
        yield* ipc.publish(old, KEY);
        const go = yield* ipc.portAlloc();
        yield* ipc.publish(go, KEY + 1);
        const m = yield* ipc.receive(go); // rank 1 holds its right now
        yield* ipc.dealloc(old);
        const fresh = yield* ipc.portAlloc();
        yield* ipc.publish(fresh, KEY);
        yield* ipc.reply(m.reply, []);
        const n = yield* ipc.receive(go); // rank 1 tried the stale right
        yield* sys.publish('fresh_queue_empty', yield* sys.raw(SYS.ipc_send, yield* ipc.makeSend(fresh), yield* env.mem.alloc(8), 1, -1));
        yield* sys.publish('fresh_first', (yield* ipc.receive(fresh)).words.length);
        void n;
        return;
      }
      const stale = yield* ipc.lookup(0, KEY, 10e9);
      yield* ipc.rpc(yield* ipc.lookup(0, KEY + 1, 10e9), []);
      const buf = yield* env.mem.alloc(64);
      yield* sys.publish('rpc_dead', yield* sys.raw(SYS.ipc_rpc, stale, buf, 0, buf, 1));
      yield* ipc.send(yield* ipc.lookup(0, KEY + 1), []);
    }, 2);
    expect(ranks[1].results.rpc_dead).toBe(-ERRNO.ECONNREFUSED);
    expect(ranks[0].results.fresh_queue_empty).toBe(0);
    expect(ranks[0].results.fresh_first).toBe(1);
  });

  it('refuses rights of the wrong kind (-EPERM) and bad arguments (-EINVAL, -EFAULT)', () => {
    const { ranks } = runRanks(function* (env) {
      const { sys } = env;
      const ipc = yield* openIpc(env);
      const buf = yield* env.mem.alloc(64);
      const port = yield* ipc.portAlloc();
      const send = yield* ipc.makeSend(port);
      const r = (k: string, v: number) => sys.publish(k, v);
      yield* r('send_on_receive', yield* sys.raw(SYS.ipc_send, port, buf, 0, -1));
      yield* r('receive_on_send', yield* sys.raw(SYS.ipc_receive, send, buf, 8));
      yield* r('reply_on_send', yield* sys.raw(SYS.ipc_reply, send, buf, 0));
      yield* r('make_send_of_send', yield* sys.raw(SYS.ipc_make_send, send));
      yield* r('too_many_words', yield* sys.raw(SYS.ipc_send, send, buf, 7, -1));
      yield* r('huge_words', yield* sys.raw(SYS.ipc_send, send, buf, 2n ** 62n, -1));
      yield* r('negative_words', yield* sys.raw(SYS.ipc_send, send, buf, -1, -1));
      yield* r('buf_past_space', yield* sys.raw(SYS.ipc_send, send, 2n ** 63n, 1, -1));
      yield* r('unmapped_buf', yield* sys.raw(SYS.ipc_send, send, 0x10, 1, -1));
      yield* r('small_receive_buf', yield* sys.raw(SYS.ipc_receive, port, buf, 2));
      yield* r('bad_flags', yield* sys.raw(SYS.ipc_port_alloc, 6));
      yield* r('bad_node', yield* sys.raw(SYS.ipc_lookup, 99, 1, 0));
      yield* r('negative_node', yield* sys.raw(SYS.ipc_lookup, -3, 1, 0));
      yield* r('bad_key', yield* sys.raw(SYS.ipc_publish, port, -1));
      yield* r('huge_name', yield* sys.raw(SYS.ipc_send, 2n ** 60n, buf, 0, -1));
      yield* r('bad_carry', yield* sys.raw(SYS.ipc_send, send, buf, 0, 12345));
      yield* r('unpublished', yield* sys.raw(SYS.ipc_lookup, 0, 99, 0));
      yield* ipc.dealloc(port);
      yield* r('dead_local_send', yield* sys.raw(SYS.ipc_send, send, buf, 0, -1));
      yield* r('dead_local_rpc', yield* sys.raw(SYS.ipc_rpc, send, buf, 0, buf, 1));
    }, 1);
    expect(ranks[0].status).toBe(0);
    expect(ranks[0].results).toEqual({
      send_on_receive: -ERRNO.EPERM,
      receive_on_send: -ERRNO.EPERM,
      reply_on_send: -ERRNO.EPERM,
      make_send_of_send: -ERRNO.EPERM,
      too_many_words: -ERRNO.EINVAL,
      huge_words: -ERRNO.EINVAL,
      negative_words: -ERRNO.EINVAL,
      buf_past_space: -ERRNO.EFAULT,
      unmapped_buf: -ERRNO.EFAULT,
      small_receive_buf: -ERRNO.EINVAL,
      bad_flags: -ERRNO.EINVAL,
      bad_node: -ERRNO.EINVAL,
      negative_node: -ERRNO.EINVAL,
      bad_key: -ERRNO.EINVAL,
      huge_name: -ERRNO.EINVAL,
      bad_carry: -ERRNO.EBADF,
      unpublished: -ERRNO.ENOENT,
      dead_local_send: -ERRNO.ECONNREFUSED,
      dead_local_rpc: -ERRNO.ECONNREFUSED,
    });
  });

  it('answers an RPC whose server exits holding the reply right with -ECONNREFUSED', () => {
    const { ranks } = runRanks(function* (env) {
      const { sys } = env;
      const ipc = yield* openIpc(env);
      if ((yield* sys.getrank()) === 0) {
        const port = yield* ipc.portAlloc();
        yield* ipc.publish(port, KEY);
        yield* ipc.receive(port);
        return 0; // exits without answering
      }
      const buf = yield* env.mem.alloc(64);
      yield* sys.publish('rpc', yield* sys.raw(SYS.ipc_rpc, yield* ipc.lookup(0, KEY, 10e9), buf, 0, buf, 1));
    }, 2);
    expect(ranks[1].results.rpc).toBe(-ERRNO.ECONNREFUSED);
  });

  it('sends No More Senders when the last send right anywhere goes, at the cost of the count messages', () => {
    const scenario = (nms: boolean) =>
      runRanks(function* (env) {
        const { sys } = env;
        const ipc = yield* openIpc(env);
        const rank = yield* sys.getrank();
        if (rank === 0) {
          // The port under test, with or without No More Senders.
          const p = yield* ipc.portAlloc(nms ? IPC_NMS : 0);
          yield* ipc.publish(p, KEY);
          const m = yield* ipc.receive(p);
          yield* sys.publish('kind', m.kind);
          return;
        }
        if (rank === 1) {
          // Rank 1 gets a right by lookup and forwards it to rank 2 (a third node), then drops its own.
          const p = yield* ipc.lookup(0, KEY, 10e9);
          const q = yield* ipc.lookup(2, KEY + 1, 10e9);
          const t0 = yield* sys.clockNs();
          yield* ipc.rpc(q, [t0]);
          yield* ipc.send(q, [], p);
          yield* ipc.dealloc(p);
          return;
        }
        const q = yield* ipc.portAlloc();
        yield* ipc.publish(q, KEY + 1);
        const first = yield* ipc.receive(q);
        yield* ipc.reply(first.reply, []);
        const withRight = yield* ipc.receive(q);
        yield* sys.publish('carried', withRight.carried >= 0 ? 1 : 0);
        // Rank 2 sends on the forwarded right, then drops it: now nobody has a send right.
        yield* ipc.send(withRight.carried, [3]);
        yield* ipc.dealloc(withRight.carried);
      }, 3);
    const on = scenario(true);
    expect(on.ranks[2].results.carried).toBe(1);
    // With NMS the port's first message is rank 2's, and then the notification comes (checked below).
    expect(on.ranks[0].results.kind).toBe(IPC_KIND.message);
    const updates = (r: ReturnType<typeof scenario>) => [0, 1, 2].map((n) => r.sys.kernel(n).ports.stats.nmsUpdates);
    // Node 2 registered before holding its first right; nodes 1 and 2 deregistered after their last.
    expect(updates(on)).toEqual([0, 1, 2]);
    // The right in transit stayed counted at node 1 until node 2 held it: no early notification.
    expect(on.sys.kernel(0).ports.stats.nmsNotifications).toBe(1);
    const off = scenario(false);
    expect(updates(off)).toEqual([0, 0, 0]);
    expect(off.sys.kernel(0).ports.stats.nmsNotifications).toBe(0);
    const transportMsgs = (r: ReturnType<typeof scenario>) => [0, 1, 2].reduce((a, n) => a + r.sys.kernel(n).ipc.transport.stats.messagesSent, 0);
    // Register and its answer, two deregistrations. (The answer that ends the right's transit is the
    // send's verdict, which every send to another node gets: kernel/ipc/admission.ts.)
    expect(transportMsgs(on) - transportMsgs(off)).toBe(4);
  });

  it('delivers the No More Senders notification to the receive right holder', () => {
    const { ranks } = runRanks(function* (env) {
      const { sys } = env;
      const ipc = yield* openIpc(env);
      if ((yield* sys.getrank()) === 0) {
        const p = yield* ipc.portAlloc(IPC_NMS);
        yield* ipc.publish(p, KEY);
        const a = yield* ipc.receive(p);
        const b = yield* ipc.receive(p);
        yield* sys.publish('kinds', a.kind * 10 + b.kind);
        return;
      }
      const p = yield* ipc.lookup(0, KEY, 10e9);
      yield* ipc.send(p, [1]);
      yield* ipc.dealloc(p);
    }, 2);
    expect(ranks[0].results.kinds).toBe(IPC_KIND.message * 10 + IPC_KIND.noMoreSenders);
  });

  it('answers random ipc_* arguments with 0 or a -errno, never a host exception (seeded fuzz)', () => {
    const calls = [SYS.ipc_port_alloc, SYS.ipc_make_send, SYS.ipc_dealloc, SYS.ipc_publish, SYS.ipc_lookup, SYS.ipc_send, SYS.ipc_receive, SYS.ipc_rpc, SYS.ipc_reply];
    const arg = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), fc.integer({ min: -2, max: 4200 }).map(BigInt), fc.constantFrom(0n, 1n, 65n, 2n ** 47n, 2n ** 53n, -1n));
    const cases = fc.sample(fc.tuple(fc.constantFrom(...calls), fc.array(arg, { minLength: 6, maxLength: 6 })), { seed: 14, numRuns: 400 });
    const known = new Set([0, ...Object.values(ERRNO).map((e) => -e)]);
    const { ranks, sys } = runRanks(function* (env) {
      let odd = 0;
      for (const [nr, args] of cases) {
        const r = yield* env.sys.raw(nr, ...args);
        // ipc_port_alloc and ipc_make_send may succeed with a name; anything else is 0 or a known -errno.
        if (!known.has(r) && !((nr === SYS.ipc_port_alloc || nr === SYS.ipc_make_send) && r > 0)) odd++;
      }
      yield* env.sys.publish('odd', odd);
    }, 2);
    expect(ranks[0].status).toBe(0);
    expect(ranks[0].results.odd).toBe(0);
    expect(sys.kernel(0).stats.oopses).toBe(0);
  });

  it('measures the same null RPC figures on every run (determinism)', () => {
    const once = () => {
      const sys = machine({ nodes: 2, transport: 'norma' });
      const job = sys.launchDirect(APPS, [0, 1], ['5']);
      sys.run({ done: () => sys.jobDone(job), until: 100e12 });
      const p = job.ranks[0].process!;
      if (p.exitStatus !== 0) throw new Error(`ipc_rpc: ${p.exitReason} ${p.stdout.join('')} ${p.stderr.join('')}`);
      return Object.fromEntries(p.results);
    };
    const a = once();
    expect(a.local_rpc_ns).toBeGreaterThan(0);
    expect(once()).toEqual(a);
  });
});
