// A remote lookup of a No-More-Senders port: the answer arrives, the asking
// node counts the right in (ports.lookedUp) and wakes the asking thread,
// which will insert the right into its table when it runs. If its process
// ends after that wake but before the thread runs (a sibling thread holds the
// node's only core and then exits the process), the right is neither in a
// table nor given back: nothing in holds.ts covers the window, so the node's
// count stays one too high for ever and the owner never gets its NMS notice.
import { expect, it } from 'vitest';
import { IPC_KIND, IPC_NMS, openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';
import { machine } from '../ipc/helpers.ts';

it('a lookup answer that reaches an asker whose process ends before it runs is counted out (NMS notice comes)', () => {
  const sys = machine({ nodes: 2, transport: 'dipc', overrides: { 'cpu.cores': 1 }, trace: true });
  const job = sys.launchDirect(
    program('t', function* (env) {
      const ipc = yield* openIpc(env);
      const rank = yield* env.sys.getrank();
      if (rank === 0) {
        const p = yield* ipc.portAlloc(IPC_NMS);
        yield* env.sys.nanosleep(50_000_000);
        yield* ipc.publish(p, 4); // the waiting lookup is answered now
        const m = yield* ipc.receive(p); // only the NMS notice can come
        yield* env.sys.publish('kind', m.kind);
        return 0;
      }
      yield* env.spawn(function* (t) {
        const o = yield* openIpc(t);
        yield* o.lookup(0, 4, 10_000_000_000); // waits at node 0's name server
        yield* t.sys.publish('looked_up', 1); // never reached
      });
      yield* env.sys.nanosleep(20_000_000); // the lookup waits at node 0
      yield* env.compute(1_700_000); // ends within the quantum after the answer wakes the lookup thread
      return 0; // the process ends; the lookup thread was woken but never ran
    }),
    [0, 1],
    ['t'],
  );
  sys.run({ done: () => sys.jobDone(job), until: 20e12 });
  const r0 = Object.fromEntries(job.ranks[0].process?.results ?? []);
  const r1 = Object.fromEntries(job.ranks[1].process?.results ?? []);
  expect(r1.looked_up).toBeUndefined(); // the asker never ran past its wake
  expect(job.ranks[1].process!.alive).toBe(false);
  expect(sys.kernel(1).ports.describe().heldRemote).toBe(0);
  expect(r0.kind).toBe(IPC_KIND.noMoreSenders);
  expect(sys.jobDone(job)).toBe(true);
});
