// Port ids were a per-node counter never reused: 2^24 ipc_port_allocs (every
// RPC's reply port used one too, until reply ids were recycled) exhausted
// the node, and every user there got -ENOSPC (a cross-user DoS, third review
// of #14). A dead port's id now comes back with the next generation of its
// slot (kernel/ipc/portids.ts), as right names do: the old id is never valid
// again, and a slot whose generations are used up is retired.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../kernel/errno.ts';
import { PORT_GENERATIONS, PORTS_PER_NODE, PortIds } from '../../kernel/ipc/portids.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { machine, spawn } from './attack.ts';

describe('port ids reused with a generation', () => {
  it('never hands out a freed id again, however many times its slot is reused (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 2, max: 5 }), fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.boolean()), { maxLength: 300 }), (slots, gens, ops) => {
        const ids = new PortIds(7 * slots * gens, slots, gens);
        const live: number[] = [];
        const dead = new Set<number>();
        const spent = new Set<number>();
        let minted = 0;
        for (const [alloc, pick, isSpent] of ops) {
          if (alloc || live.length === 0) {
            const id = ids.alloc();
            if (id === null) {
              // Only when every slot is in use or retired: at most slots * (gens - 1) ids are ever minted.
              expect(live.length === slots || minted >= slots * (gens - 1) - live.length).toBe(true);
              continue;
            }
            expect(dead.has(id) && !spent.has(id)).toBe(false);
            expect(live).not.toContain(id);
            expect(Math.floor(id / (slots * gens))).toBe(7);
            if (!spent.has(id)) minted++;
            spent.delete(id);
            dead.delete(id);
            live.push(id);
          } else {
            const [id] = live.splice(pick % live.length, 1);
            ids.release(id, isSpent);
            ids.release(id, isSpent); // a second release of the same id changes nothing
            dead.add(id);
            if (isSpent) spent.add(id);
          }
        }
      }),
      { seed: 14, numRuns: 300 },
    );
  });

  it('does not run a node out of ids after 2^24 + 1000 allocations and frees', () => {
    const ids = new PortIds(3 * PORTS_PER_NODE);
    const first = ids.alloc()!;
    ids.release(first);
    let last = first;
    for (let i = 0; i < 2 ** 24 + 1000; i++) {
      const id = ids.alloc();
      if (id === null) throw new Error(`out of port ids after ${i} cycles`);
      if (id === first) throw new Error(`the freed id ${first} came back after ${i} cycles`);
      ids.release(id);
      last = id;
    }
    // One slot, used again with each generation, then retired for a new one: ids grow slowly and stay safe integers.
    expect(Number.isSafeInteger(last)).toBe(true);
    expect(Math.floor(last / PORTS_PER_NODE)).toBe(3);
    expect(ids.minted).toBe(2 ** 24 + 1001);
    expect(PORTS_PER_NODE * 2 ** 22).toBeLessThanOrEqual(2 ** 53);
    expect(PORT_GENERATIONS).toBeGreaterThan(2);
  });

  it('gives every user of a node a port after its ports were allocated and freed 2^24 + 1000 times', () => {
    const sys = machine(1);
    const results: Record<string, number> = {};
    const victim = spawn(sys, 0, 2, 'victim', function* (env) {
      yield* env.sys.nanosleep(1_000_000); // the churn happens meanwhile
      results.alloc = yield* env.sys.raw(SYS.ipc_port_alloc, 0);
      return 0;
    });
    const k = sys.kernel(0);
    for (let i = 0; i < 2 ** 24 + 1000; i++) {
      const port = k.ports.allocate(victim, false);
      if (port === null) throw new Error(`out of port ids after ${i} cycles`);
      k.ports.remove(port);
    }
    sys.run({ done: () => !victim.alive, until: 1e12 });
    expect(results.alloc).toBeGreaterThanOrEqual(0);
  });

  it('refuses a send right to a dead port whose slot a new port took (-ECONNREFUSED), and the new port gets nothing', () => {
    const sys = machine(1);
    const r: Record<string, number> = {};
    const p = spawn(sys, 0, 1, 'stale', function* (env) {
      const { sys: s, mem } = env;
      const buf = yield* mem.alloc(64);
      const oldPort = yield* s.raw(SYS.ipc_port_alloc, 0);
      const stale = yield* s.raw(SYS.ipc_make_send, oldPort);
      yield* s.raw(SYS.ipc_dealloc, oldPort);
      r.refused = 0;
      for (let i = 0; i < 3 * PORT_GENERATIONS; i++) {
        const fresh = yield* s.raw(SYS.ipc_port_alloc, 0);
        if ((yield* s.raw(SYS.ipc_send, stale, buf, 0, -1)) === -ERRNO.ECONNREFUSED) r.refused++;
        yield* s.raw(SYS.ipc_dealloc, fresh);
      }
      return 0;
    });
    const k = sys.kernel(0);
    sys.run({ done: () => !p.alive, until: 10e12 });
    expect(r.refused).toBe(3 * PORT_GENERATIONS);
    expect(k.ports.stats.delivered).toBe(0);
    expect(k.ports.idsUsed).toBe(1 + 3 * PORT_GENERATIONS);
  });
});
