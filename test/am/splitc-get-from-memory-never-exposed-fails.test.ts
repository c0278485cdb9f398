// Review 3 of #13: a Split-C get from an address the target never exposed hung both ranks: the target dropped
// the GET as 'address', and the requester's sc.sync() waited for ever. Now the target's layer answers a get or
// store it refuses for its address with REFUSED, and the requester's wait ends in an AmError naming both.
import { describe, expect, it } from 'vitest';
import { splitcStart } from '../../userland/lib/am/splitc.ts';
import { TRANSPORTS, runAm } from './harness.ts';

describe('a Split-C transfer to memory the target never exposed', () => {
  for (const transport of TRANSPORTS) {
    for (const op of ['get', 'put'] as const) {
      it(`over ${transport}, a ${op} ends the requester's sync in an AmError naming the address and rank`, () => {
        let addr = 0;
        const r = runAm(transport, 2, function* (env, t) {
          const sc = yield* splitcStart(env, t);
          const g = yield* sc.alloc(4096);
          const local = yield* sc.alloc(4096);
          yield* sc.barrier();
          if (sc.rank === 0) {
            addr = g + 4096; // one page past what rank 1 exposed
            if (op === 'get') yield* sc.get({ rank: 1, addr }, local, 8);
            else yield* sc.put({ rank: 1, addr }, local, 8);
            yield* sc.sync();
            return 0;
          }
          // Rank 1 serves until rank 0 has failed (the harness ends the run then).
          yield* sc.am.waitUntil(() => false);
          return 0;
        });
        expect(r.ranks[0].status).not.toBe(0);
        const what = op === 'get' ? 'get of 8 bytes from' : 'store of 8 bytes to';
        expect(r.ranks[0].reason).toContain(`rank 0: rank 1 refused a ${what} 0x${addr.toString(16)}: that memory is not exposed there`);
      });
    }
  }
});
