// tlbstale: a thread on core 1 keeps reading a page while core 0 unmaps it
// and maps a new frame at the same address. With TLB shootdown the reader
// sees the new contents (or faults, which its handler rides out); without
// it, the reader's TLB still points at the old frame and it reads stale
// data. Publishes stale_reads, new_reads and faults.

import { program } from '../lib/runtime.ts';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../lib/sys.ts';

const OLD = 0x01d0_01d0_01d0_01d0n;
const NEW = 0x0e30_0e30_0e30_0e30n;
const READS_AFTER = 50;

// Shared words (in the heap): [0] page address, [8] phase, [16] reads before, [24] stale, [32] new, [40] faults
const PAGE = 0;
const PHASE = 8;
const READY = 16;
const STALE = 24;
const FRESH = 32;
const FAULTS = 40;
const RUNNING = 1n;
const REMAPPED = 2n;

export default program('tlbstale', function* main(env) {
  const { sys, mem } = env;
  const shared = yield* mem.alloc(64);
  const page = yield* sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  yield* mem.storeU64(page, OLD);
  yield* mem.storeU64(shared + PAGE, page);
  yield* mem.storeU64(shared + PHASE, RUNNING);

  const reader = yield* env.spawn(function* (r, base) {
    // A fault while the page is briefly unmapped is counted and waited out.
    yield* r.onFault(function* () {
      const n = yield* r.mem.loadU64(base + FAULTS);
      yield* r.mem.storeU64(base + FAULTS, n + 1n);
      yield* r.compute(2000);
    });
    const at = Number(yield* r.mem.loadU64(base + PAGE));
    let after = 0;
    while (after < READS_AFTER) {
      const phase = yield* r.mem.loadU64(base + PHASE);
      const v = yield* r.mem.loadU64(at);
      if (phase === REMAPPED) {
        after++;
        const slot = v === OLD ? STALE : v === NEW ? FRESH : -1;
        if (slot >= 0) yield* r.mem.storeU64(base + slot, (yield* r.mem.loadU64(base + slot)) + 1n);
      } else {
        yield* r.mem.storeU64(base + READY, (yield* r.mem.loadU64(base + READY)) + 1n);
      }
      yield* r.compute(500);
    }
    return 0;
  }, shared);

  // Let the reader cache the translation, then replace the page under it.
  while ((yield* mem.loadU64(shared + READY)) < 5n) yield* env.compute(1000);
  yield* sys.munmap(page, 4096);
  const again = yield* sys.mmap(page, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
  if (again !== page) throw new Error(`MAP_FIXED returned 0x${again.toString(16)}`);
  yield* mem.storeU64(page, NEW);
  yield* mem.storeU64(shared + PHASE, REMAPPED);
  yield* env.join(reader);

  const stale = Number(yield* mem.loadU64(shared + STALE));
  const fresh = Number(yield* mem.loadU64(shared + FRESH));
  const faults = Number(yield* mem.loadU64(shared + FAULTS));
  yield* sys.publish('stale_reads', stale);
  yield* sys.publish('new_reads', fresh);
  yield* sys.publish('faults', faults);
  yield* sys.print(`tlbstale: after the remap the reader saw ${stale} stale and ${fresh} new values (${faults} faults)\n`);
  return 0;
});
