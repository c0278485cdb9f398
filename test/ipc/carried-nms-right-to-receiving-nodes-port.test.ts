// Rank 1 sends, to a port homed on node 0, a message carrying a send right to
// an NMS port also homed on node 0 (both rights from lookups), then drops its
// own right to the NMS port. Node 0's receiver then sends on the carried right
// (its own node's NMS port, a right it was just given) and drops it.
// On HEAD this is a kernel oops on node 0 ("Cannot read properties of
// undefined (reading 'words')"): the process dies with status 134.
// The same program on 8 nodes (the carried right lands on a third node) works.
import { describe, expect, it } from 'vitest';
import { IPC_KIND, IPC_NMS, openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';
import { machine } from '../ipc/helpers.ts';

describe('a carried NMS right to a port of the receiving node', () => {
  for (const transport of ['dipc', 'norma'] as const) {
    it(`${transport}: no kernel oops; the owner gets the message, then no-more-senders`, () => {
      const sys = machine({ nodes: 2, transport });
      const stacks: string[] = [];
      for (const nid of [0, 1]) {
        const k = sys.kernel(nid);
        const oops = k.oops.bind(k);
        k.oops = ((cpu: never, t: never, e: unknown) => {
          stacks.push(`node ${nid}: ${(e as Error).stack}`);
          oops(cpu, t, e);
        }) as typeof k.oops;
      }
      const job = sys.launchDirect(
        program('t', function* (env) {
          const ipc = yield* openIpc(env);
          const rank = yield* env.sys.getrank();
          if (rank === 0) {
            const p = yield* ipc.portAlloc(IPC_NMS);
            yield* ipc.publish(p, 21);
            const q = yield* ipc.portAlloc();
            yield* ipc.publish(q, 22);
            const m = yield* ipc.receive(q); // carries a send right to p
            yield* ipc.send(m.carried, [77]);
            yield* ipc.dealloc(m.carried);
            const a = yield* ipc.receive(p);
            const b = yield* ipc.receive(p);
            yield* env.sys.publish('first', a.kind === IPC_KIND.message ? a.words[0] : -1);
            yield* env.sys.publish('second', b.kind);
            return 0;
          }
          const p = yield* ipc.lookup(0, 21, 1e9);
          const q = yield* ipc.lookup(0, 22, 1e9);
          yield* ipc.send(q, [5], p);
          yield* ipc.dealloc(p);
          yield* ipc.dealloc(q);
          return 0;
        }),
        [0, 1],
        ['t'],
      );
      sys.run({ done: () => sys.jobDone(job), until: 10e12 });
      expect(stacks).toEqual([]);
      const r0 = Object.fromEntries(job.ranks[0].process?.results ?? []);
      expect(job.ranks[0].process!.exitStatus).toBe(0);
      expect(r0.first).toBe(77);
      expect(r0.second).toBe(IPC_KIND.noMoreSenders);
    });
  }
});
