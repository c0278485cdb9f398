// cor_touch: reads one word from each of the first N pages of its data
// segment (one after another, as the seed's Figures 10 and 11 page in 128
// and 300 pages) and checks each page holds what the image put there. Under
// --load crtc every first touch is a copy-on-reference fault served over
// the paging tree; under the other loads the pages are already there.
// argv: [pages=N] (default 128, at most DATA_PAGES) [sleep_us=T] (wait T
// before touching) [only=R] (only rank R touches; the others exit at once).
// Publishes pagein_ns, pages and bad_pages.

import { program } from '../lib/runtime.ts';

/** Pages of initialised data the image carries. */
export const DATA_PAGES = 320;
const PAGE = 4096;

/** Page p starts with the byte (p mod 251) + 1: a page that came from elsewhere shows. */
const data = new Uint8Array(DATA_PAGES * PAGE);
for (let p = 0; p < DATA_PAGES; p++) data[p * PAGE] = (p % 251) + 1;

export default program('cor_touch', function* main(env) {
  const { sys, mem } = env;
  const arg = env.argv.slice(1).find((a) => a.startsWith('pages='));
  const pages = arg === undefined ? 128 : Number(arg.slice(6));
  if (!Number.isInteger(pages) || pages < 0 || pages > DATA_PAGES) {
    yield* sys.print(`cor_touch: pages must be 0..${DATA_PAGES}, got '${arg}'\n`, 2);
    return 2;
  }
  const sleep = env.argv.slice(1).find((a) => a.startsWith('sleep_us='));
  const sleepUs = sleep === undefined ? 0 : Number(sleep.slice(9));
  if (!Number.isInteger(sleepUs) || sleepUs < 0 || sleepUs > 1e9) {
    yield* sys.print(`cor_touch: sleep_us must be 0..1e9, got '${sleep}'\n`, 2);
    return 2;
  }
  const only = env.argv.slice(1).find((a) => a.startsWith('only='));
  if (only !== undefined && Number(only.slice(5)) !== (yield* sys.getrank())) return 0;
  if (sleepUs > 0) yield* sys.nanosleep(sleepUs * 1000);
  const t0 = yield* sys.clockNs();
  let bad = 0;
  for (let p = 0; p < pages; p++) {
    const b = yield* mem.load(env.dataVa + p * PAGE, 1);
    if (b[0] !== (p % 251) + 1) bad++;
  }
  const ns = (yield* sys.clockNs()) - t0;
  yield* sys.publish('pagein_ns', ns);
  yield* sys.publish('pages', pages);
  yield* sys.publish('bad_pages', bad);
  return bad === 0 ? 0 : 1;
}, { data, dataBytes: data.length, textBytes: 16 * 1024 });
