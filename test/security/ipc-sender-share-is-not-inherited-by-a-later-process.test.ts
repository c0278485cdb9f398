// A port's per-sender share (admission.ts: 128 of its 1024 messages) was
// keyed by the sender's node and pid, and every rank of a yod-loaded job is
// pid 100 (monitor/launch.ts): a job that left its share full on a
// long-lived server port made the next job on that node get -EAGAIN there
// until the server drained it. The share is now keyed by the sending
// process's incarnation on its node, which no later process shares.
import { expect, it } from 'vitest';
import { SENDER_SHARE } from '../../kernel/ipc/admission.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';
import { machine } from '../ipc/helpers.ts';

it("gives a later process with an ended process's pid a share of its own on a port", () => {
  const sys = machine({ nodes: 2, transport: 'dipc' });
  const server = sys.launchDirect(
    program('server', function* (env) {
      const ipc = yield* openIpc(env);
      const p = yield* ipc.portAlloc();
      yield* ipc.publish(p, 9);
      yield* env.sys.nanosleep(5_000_000_000); // busy for 5 s: the queue is not drained meanwhile
      return 0;
    }),
    [0],
    [],
  );
  const sender = (name: string, n: number) =>
    program(name, function* (env) {
      const ipc = yield* openIpc(env);
      const s = yield* ipc.lookup(0, 9, 1e9);
      const buf = yield* env.mem.alloc(64);
      let ok = 0;
      for (let i = 0; i < n; i++) if ((yield* env.sys.raw(SYS.ipc_send, s, buf, 0, -1)) === 0) ok++;
      yield* env.sys.publish('queued', ok);
      return 0;
    });
  const info = (argv0: string) => ({ rank: 0, jobSize: 1, uid: 1000, argv: [argv0], envp: [], jobMap: [{ nid: 1, pid: 100 }] });
  const first = sys.kernel(1).spawn(sender('first', SENDER_SHARE), info('first'), { pid: 100 });
  sys.run({ done: () => !first.alive, until: 2e12 });
  expect(first.results.get('queued')).toBe(SENDER_SHARE);
  const second = sys.kernel(1).spawn(sender('second', 1), info('second'), { pid: 100 });
  sys.run({ done: () => !second.alive, until: sys.now + 2e12 });
  expect(second.pid).toBe(100);
  expect(second.results.get('queued')).toBe(1);
  expect(server.ranks[0].process!.alive).toBe(true);
});
