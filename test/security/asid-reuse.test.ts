// Finding (outside attacker): address-space ids wrapped after 4095 processes
// on a node whether or not the previous owner of the id was still alive. Two
// live processes then shared an asid; the TLB is tagged, not flushed on a
// context switch, so the new process's loads hit the old process's TLB
// entries and read another user's frames. An asid is now held until its
// address space is torn down (kernel/asid.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ASID_COUNT, AsidPool } from '../../kernel/asid.ts';
import { ERRNO, SyscallError } from '../../kernel/errno.ts';
import { program } from '../../userland/lib/runtime.ts';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';
import { SECRET, includes, machine, spawn } from '../security/attack.ts';

const X = 2 ** 36;

describe('address-space ids', () => {
  it('are never given to a new process while a live process holds them, so it cannot read that process through the TLB', () => {
    const sys = machine(1, 1); // one core: both processes run on it
    let stop = false;
    const victim = spawn(sys, 0, 1, 'victim', function* (env) {
      expect(yield* env.sys.mmap(X, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)).toBe(X);
      yield* env.mem.store(X, SECRET);
      // A long-running process that keeps using its data.
      while (!stop) {
        yield* env.mem.load(X, SECRET.length);
        yield* env.sys.nanosleep(10_000);
      }
    });
    sys.run({ until: 1e9 });
    // Other processes come and go on the node (other jobs' ranks, launchers, execs).
    for (let i = 0; i < 4094; i++) {
      const p = spawn(sys, 0, 3, `filler${i}`, function* () {});
      sys.run({ until: sys.engine.now + 1e12, done: () => !p.alive });
    }
    let seen: Uint8Array = new Uint8Array(0);
    const attacker = spawn(sys, 0, 2, 'attacker', function* (env) {
      expect(yield* env.sys.mmap(X, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)).toBe(X);
      yield* env.sys.nanosleep(100_000); // let the victim run (and refill the TLB) once
      seen = yield* env.mem.load(X, SECRET.length); // its own, freshly zeroed page
    });
    expect(attacker.aspace.asid).not.toBe(victim.aspace.asid);
    sys.run({ until: sys.engine.now + 1e12, done: () => !attacker.alive });
    stop = true;
    sys.run({ until: sys.engine.now + 1e12, done: () => !victim.alive });
    expect(attacker.exitStatus).toBe(0);
    expect(seen).toEqual(new Uint8Array(SECRET.length));
    expect(includes(seen, SECRET)).toBe(false);
  });

  it('refuses a spawn with EAGAIN and a reason when every id is held, and accepts one again once an id is freed', () => {
    const sys = machine(1, 1);
    const k = sys.kernel(0);
    const tiny = program('tiny', function* () {});
    const info = { rank: 0, jobSize: 1, uid: 3, argv: ['tiny'], envp: [] };
    const first = k.spawn(tiny, info);
    // Hold every other id, as 4094 further live address spaces would.
    const taken: number[] = [];
    for (let a = k.asids.alloc(); a !== null; a = k.asids.alloc()) taken.push(a);
    expect(taken.length).toBe(ASID_COUNT - 1);
    expect(taken).not.toContain(first.aspace.asid);
    let err: unknown = null;
    try {
      k.spawn(tiny, info);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SyscallError);
    expect((err as SyscallError).errno).toBe(ERRNO.EAGAIN);
    expect((err as SyscallError).message).toMatch(/all 4095 address-space ids are held/);
    // The first process ends and is torn down: its id (and only it) is free again.
    sys.run({ until: sys.engine.now + 1e12, done: () => !first.alive });
    const second = k.spawn(tiny, info);
    expect(second.aspace.asid).toBe(first.aspace.asid);
  });

  it('come from a pool that never hands out a held id and numbers like a counter until it wraps', () => {
    // Model: a random sequence of allocations and frees of held ids.
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(-1), fc.nat(5000)), { maxLength: 9000 }), (ops) => {
        const pool = new AsidPool();
        const held: number[] = [];
        for (const op of ops) {
          if (op === -1 || held.length === 0) {
            const a = pool.alloc();
            if (held.length === ASID_COUNT) {
              expect(a).toBeNull();
              continue;
            }
            expect(a).not.toBeNull();
            expect(a! >= 1 && a! <= ASID_COUNT).toBe(true);
            expect(held.includes(a!)).toBe(false);
            held.push(a!);
          } else {
            const [a] = held.splice(op % held.length, 1);
            pool.free(a);
          }
          expect(pool.inUse).toBe(held.length);
        }
      }),
      { seed: 4095, numRuns: 40 },
    );
    const pool = new AsidPool();
    const first = Array.from({ length: 10 }, () => pool.alloc());
    expect(first).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
