// init: the first process of every rank in a two-phase job load (the seed's
// "very simple init code that does the rest of the job load"). The kernel
// created it from the job-load message; it fetches the executable from its
// parent, loads its children, gathers their status, reports it up, waits
// for GO, passes it on, and becomes the executable (step 15).

import { loadSubtree } from '../lib/loader.ts';
import { program } from '../lib/runtime.ts';

export default program('init', function* main(env) {
  const { sys } = env;
  const job = env.job;
  if (job === null) {
    yield* sys.print('init: no job block (init runs only under the job loader)\n', 2);
    return 2;
  }
  const rank = yield* sys.getrank();
  const r = yield* loadSubtree(env, job, rank, job.bytes);
  const rc = yield* sys.exec(r.lp.store + r.image.offset, r.image.length);
  yield* sys.print(`init: exec of the executable failed (errno ${-rc})\n`, 2);
  return 126;
}, { textBytes: 16 * 1024, loader: true });
