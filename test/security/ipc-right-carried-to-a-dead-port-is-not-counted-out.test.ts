// A message to a dead port that carries a No-More-Senders send right: the
// port's home discards it and counts the carried right out (lost), though it
// never counted it in on that node (arrived() returns before gained() when
// the destination port is gone). The owner's count goes one too low: it gets
// "no more senders" while it still holds a send right of its own.
import { describe, expect, it } from 'vitest';
import { IPC_KIND, IPC_NMS, openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';
import { machine } from '../ipc/helpers.ts';

describe('NMS count and a carried right discarded at a dead port', () => {
  for (const transport of ['dipc', 'norma'] as const) {
    it(`${transport}: the owner gets no NMS notice while it holds a send right itself`, () => {
      const sys = machine({ nodes: 2, transport });
      const job = sys.launchDirect(
        program('t', function* (env) {
          const ipc = yield* openIpc(env);
          const rank = yield* env.sys.getrank();
          if (rank === 0) {
            const p = yield* ipc.portAlloc(IPC_NMS);
            const own = yield* ipc.makeSend(p); // the owner holds a send right: no NMS may come while it does
            const q = yield* ipc.portAlloc();
            yield* ipc.publish(p, 1);
            yield* ipc.publish(q, 2);
            const hello = yield* ipc.receive(p); // rank 1 has both rights
            yield* ipc.dealloc(q); // q is dead now
            yield* env.sys.nanosleep(200_000_000); // rank 1 sends to q carrying p, then drops its p right
            yield* ipc.send(own, [99]);
            const m = yield* ipc.receive(p);
            yield* env.sys.publish('hello', hello.words[0]);
            yield* env.sys.publish('next_kind', m.kind);
            yield* env.sys.publish('next_word', m.words[0] ?? -1);
            return 0;
          }
          const p = yield* ipc.lookup(0, 1, 100_000);
          const q = yield* ipc.lookup(0, 2, 100_000);
          yield* ipc.send(p, [1]);
          yield* env.sys.nanosleep(50_000_000);
          yield* ipc.send(q, [2], p); // to the dead port, carrying the NMS right
          yield* env.sys.nanosleep(50_000_000);
          yield* ipc.dealloc(p);
          return 0;
        }),
        [0, 1],
        ['t'],
      );
      sys.run({ done: () => sys.jobDone(job), until: 5e12 });
      const r0 = Object.fromEntries(job.ranks[0].process?.results ?? []);
      expect(sys.jobDone(job)).toBe(true);
      expect(r0.hello).toBe(1);
      // With the bug: next_kind is IPC_KIND.noMoreSenders (1) while rank 0 still holds `own`.
      expect(r0.next_kind).toBe(IPC_KIND.message);
      expect(r0.next_word).toBe(99);
    });
  }
});
