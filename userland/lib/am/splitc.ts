// Split-C's global memory on Active Messages (Culler et al., 1993; the
// seed's matrix multiply): a global pointer names a rank and an address
// there. get and put are split-phase: they start the transfer and return;
// sync() waits until every one this rank started has completed. store is
// one-way: the receiver counts the bytes stored into it, and storeSync(n)
// waits until n bytes have arrived. barrier() is a request to rank 0 from
// every rank and a release from rank 0. Transfers larger than one message
// go as several, at most `window` of them in flight (so a receiver's queue
// cannot overflow however many ranks fetch from it).

import type { Env } from '../runtime.ts';
import type { U } from '../ops.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../sys.ts';
import { type Am, AmError, type AmHandler, amMaxData, amStart } from './am.ts';
import type { AmTransport } from './transport.ts';

export interface GlobalPtr {
  readonly rank: number;
  readonly addr: number;
}

/** Split-C's own handlers come first in the table; the application's follow from SPLITC_FIRST_HANDLER. */
const H = { GET_DONE: 0, PUT_ARRIVED: 1, PUT_DONE: 2, STORED: 3, ARRIVE: 4, RELEASE: 5 } as const;
export const SPLITC_FIRST_HANDLER = 6;

export interface SplitC {
  readonly am: Am;
  readonly rank: number;
  readonly size: number;
  get(from: GlobalPtr, to: number, len: number): U;
  put(to: GlobalPtr, from: number, len: number): U;
  store(to: GlobalPtr, from: number, len: number): U;
  /** Waits until every get and put this rank started has completed. */
  sync(): U;
  /** Waits until `bytes` bytes in all have been stored into this rank. */
  storeSync(bytes: number): U;
  barrier(): U;
  /**
   * Maps `bytes` of global memory and exposes it to the other ranks' gets,
   * puts and stores (nothing else of a rank is reachable). Split-C names
   * remote data by the address it has on its own rank: ranks that map the
   * same sizes in the same order get the same addresses (the heap would not
   * do: the Portals library grows its argument arena there, by a rank's own calls).
   */
  alloc(bytes: number): U<number>;
  /** Withdraws and unmaps global memory from `alloc` (no rank may still be reaching it). */
  free(va: number, bytes: number): U;
}


export function* splitcStart(env: Env, transport: AmTransport, opts: { readonly window?: number; readonly handlers?: readonly AmHandler[] } = {}): U<SplitC> {
  const s = { pending: 0, stored: 0, arrivals: 0, released: 0, epoch: 0 };
  const own: AmHandler[] = [];
  own[H.GET_DONE] = function* getDone() {
    s.pending--;
  };
  own[H.PUT_ARRIVED] = function* putArrived(t) {
    yield* t.reply(H.PUT_DONE);
  };
  own[H.PUT_DONE] = function* putDone() {
    s.pending--;
  };
  own[H.STORED] = function* stored(t) {
    s.stored += t.len;
  };
  own[H.ARRIVE] = function* arrive() {
    s.arrivals++;
  };
  own[H.RELEASE] = function* release() {
    s.released++;
  };
  const am = yield* amStart(env, transport, [...own, ...(opts.handlers ?? [])]);
  const chunk = amMaxData(transport);
  const window = opts.window ?? 8;
  /** Starts one message per chunk, waiting (polling) while `window` are in flight. */
  function* chunks(len: number, each: (off: number, n: number) => U): U {
    for (let off = 0; off < len || (len === 0 && off === 0); off += chunk) {
      if (s.pending >= window) yield* am.waitUntil(() => s.pending < window);
      s.pending++;
      yield* each(off, Math.min(chunk, len - off));
      if (len === 0) break;
    }
  }
  return {
    am,
    rank: am.rank,
    size: am.size,
    *get(from, to, len) {
      yield* chunks(len, (off, n) => am.get(from.rank, from.addr + off, to + off, n, H.GET_DONE));
    },
    *put(to, from, len) {
      yield* chunks(len, (off, n) => am.store(to.rank, from + off, to.addr + off, n, H.PUT_ARRIVED));
    },
    *store(to, from, len) {
      for (let off = 0; off < len; off += chunk) yield* am.store(to.rank, from + off, to.addr + off, Math.min(chunk, len - off), H.STORED);
    },
    *sync() {
      yield* am.waitUntil(() => s.pending === 0);
    },
    *storeSync(bytes) {
      yield* am.waitUntil(() => s.stored >= bytes);
    },
    *alloc(bytes) {
      const len = Math.max(bytes, 4096);
      const va = yield* env.sys.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      if (va < 0) throw new AmError(`splitc alloc: mmap of ${bytes} bytes failed with errno ${-va}`);
      am.expose(va, len);
      return va;
    },
    *free(va, bytes) {
      const len = Math.max(bytes, 4096);
      am.withdraw(va, len);
      const rc = yield* env.sys.munmap(va, len);
      if (rc < 0) throw new AmError(`splitc free: munmap failed with errno ${-rc}`);
    },
    *barrier() {
      const epoch = ++s.epoch;
      yield* am.request(0, H.ARRIVE);
      if (am.rank === 0) {
        yield* am.waitUntil(() => s.arrivals >= am.size * epoch);
        for (let r = 0; r < am.size; r++) yield* am.request(r, H.RELEASE);
      }
      yield* am.waitUntil(() => s.released >= epoch);
    },
  };
}
