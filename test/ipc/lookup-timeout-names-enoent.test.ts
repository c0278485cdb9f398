// ipc.lookup's third argument is the total wait (it was a retry interval):
// a key not published within it is a clear error naming ENOENT and the wait,
// not "errno 2"; a publisher later than 100 ms needs an explicit wait.
import { describe, expect, it } from 'vitest';
import { IpcError, openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';
import { machine } from './helpers.ts';

function run(waitNs: number | undefined) {
  const sys = machine({ nodes: 2, transport: 'dipc' });
  const job = sys.launchDirect(
    program('late', function* (env) {
      const ipc = yield* openIpc(env);
      if ((yield* env.sys.getrank()) === 0) {
        const p = yield* ipc.portAlloc();
        yield* env.sys.nanosleep(200_000_000); // publishes 200 ms in
        yield* ipc.publish(p, 9);
        yield* env.sys.nanosleep(300_000_000);
        return 0;
      }
      try {
        yield* ipc.lookup(0, 9, waitNs);
        yield* env.sys.publish('found', 1);
      } catch (e) {
        if (!(e instanceof IpcError)) throw e;
        yield* env.sys.print(`${e.message}\n`);
        yield* env.sys.publish('errno', e.errno);
      }
      return 0;
    }),
    [0, 1],
    ['late'],
  );
  sys.run({ done: () => sys.jobDone(job), until: 10e12 });
  return { results: Object.fromEntries(job.ranks[1].process!.results), out: job.ranks[1].process!.stdout.join('') };
}

describe('ipc.lookup of a key published late', () => {
  it('with no wait gives up after 100 ms with an error that names ENOENT and says the key was not published within the wait', () => {
    const { results, out } = run(undefined);
    expect(results.found).toBeUndefined();
    expect(results.errno).toBe(2);
    expect(out).toContain('ipc: ipc_lookup failed: ENOENT (key 9 was not published at node 0 within the wait of 100 ms)');
  });

  it('with a wait longer than the publisher takes finds it', () => {
    expect(run(1e9).results.found).toBe(1);
  });
});
