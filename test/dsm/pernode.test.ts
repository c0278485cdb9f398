// The kernel DSM keeps one copy of each page per node, so it takes one rank
// per node: a job with two ranks on a node gets -EINVAL from dsm_create on
// every rank (none waits, none gets a region with wrong results).

import { describe, expect, it } from 'vitest';
import { ERRNO, SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

describe('a kernel DSM job with two ranks on one node', () => {
  it('is refused with -EINVAL on every rank', () => {
    const sys = boot({ nodes: 2, trace: false });
    const prog = program('dsm-two-per-node', function* (env) {
      yield* env.sys.publish('create', yield* env.sys.raw(SYS.dsm_create, 4096));
      yield* env.sys.publish('attach', yield* env.sys.raw(SYS.dsm_attach));
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1, 1], []);
    expect(sys.run({ done: () => sys.jobDone(job), until: 1e12 }).kind).toBe('done');
    expect(job.ranks.map((r) => r.process!.results.get('create'))).toEqual([-ERRNO.EINVAL, -ERRNO.EINVAL, -ERRNO.EINVAL]);
    expect(job.ranks.map((r) => r.process!.results.get('attach'))).toEqual([-ERRNO.ENOENT, -ERRNO.ENOENT, -ERRNO.ENOENT]);
  });
});
