// hello: every rank prints where it runs (node, core, pid) through write(2).

import { program } from '../lib/runtime.ts';

export default program('hello', function* main(env) {
  const { sys } = env;
  const rank = yield* sys.getrank();
  const size = yield* sys.getsize();
  const nid = yield* sys.getnid();
  const pid = yield* sys.getpid();
  const core = yield* sys.getcpu();
  yield* sys.print(`hello from rank ${rank} of ${size} on node ${nid} core ${core}, pid ${pid}\n`);
  return 0;
});
