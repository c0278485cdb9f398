// ipc_send to a port on the sender's own node gets its verdict at once
// (ports.arrived calls `held` synchronously), and sys_ipc_send's `answered`
// still calls k.wake(t, null) on the running thread. Since 0ddbcdf a wake
// that comes before its path blocks is kept (t.wakePending, t.kresume), but
// this send never blocks, so the wake stays pending: the thread's NEXT block,
// in any later system call, returns at once with no value.
// - ipc_receive on an empty port then returns `undefined` as its message:
//   kernel oops (TypeError: reading 'words'), the process is killed (134).
// - nanosleep returns at once instead of sleeping.
import { describe, expect, it } from 'vitest';
import { openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';
import { machine } from '../ipc/helpers.ts';

describe('a local ipc_send leaves no wake behind', () => {
  it('ipc_receive after a local send waits for the next message (no kernel oops)', () => {
    const sys = machine({ nodes: 1, transport: 'dipc' });
    const job = sys.launchDirect(
      program('t', function* (env) {
        const ipc = yield* openIpc(env);
        const p = yield* ipc.portAlloc();
        const s = yield* ipc.makeSend(p);
        const q = yield* ipc.portAlloc();
        const sq = yield* ipc.makeSend(q);
        yield* env.spawn(function* (t) {
          yield* t.sys.nanosleep(100_000_000);
          const o = yield* openIpc(t);
          yield* o.send(sq, [42]);
        });
        yield* ipc.send(s, [1]); // to a port of this node: verdict at once
        const m = yield* ipc.receive(q); // empty for 100 ms: must wait
        yield* env.sys.publish('got', m.words[0]);
        return 0;
      }),
      [0],
      ['t'],
    );
    sys.run({ done: () => sys.jobDone(job), until: 5e12 });
    const p = job.ranks[0].process!;
    expect(sys.kernel(0).stats.oopses).toBe(0);
    expect(p.exitStatus).toBe(0);
    expect(p.results.get('got')).toBe(42);
  });

  it('nanosleep after a local send sleeps', () => {
    const sys = machine({ nodes: 1, transport: 'dipc' });
    const job = sys.launchDirect(
      program('t', function* (env) {
        const ipc = yield* openIpc(env);
        const p = yield* ipc.portAlloc();
        const s = yield* ipc.makeSend(p);
        yield* ipc.send(s, [1]);
        const t0 = sys.now;
        yield* env.sys.nanosleep(500_000_000);
        yield* env.sys.publish('slept_ms', Math.round((sys.now - t0) / 1e9));
        return 0;
      }),
      [0],
      ['t'],
    );
    sys.run({ done: () => sys.jobDone(job), until: 5e12 });
    expect(job.ranks[0].process!.results.get('slept_ms')).toBeGreaterThanOrEqual(500);
  });
});
