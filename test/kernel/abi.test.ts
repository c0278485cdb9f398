import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SYSCALLS } from '../../kernel/syscalls/table.ts';
import { generatedDocs } from '../../monitor/commands/docs.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from './helpers.ts';

describe('the ABI table', () => {
  it('is the single source for the user-side numbers and docs/ABI.md', () => {
    for (const [file, text] of Object.entries(generatedDocs())) expect(readFileSync(file, 'utf8'), file).toBe(text);
    for (const s of SYSCALLS) expect((SYS as Record<string, number>)[s.name]).toBe(s.nr);
  });

  it('has a handler for every call once the kernel has booted', () => {
    const k = boot().kernel(0);
    expect(k.registeredSyscalls()).toEqual(SYSCALLS.map((s) => s.nr).sort((a, b) => a - b));
  });

  it('uses Linux numbers where Linux has the call and 500+ for LWK calls', () => {
    expect(SYS).toMatchObject({ read: 0, write: 1, mmap: 9, mprotect: 10, munmap: 11, brk: 12, sched_yield: 24, nanosleep: 35, getpid: 39, clone: 56, exit: 60, gettid: 186, futex: 202, clock_gettime: 228, exit_group: 231 });
    for (const s of SYSCALLS) if (s.name.startsWith('lwk_')) expect(s.nr).toBeGreaterThanOrEqual(500);
  });
});

// Calls that would end the caller or legitimately block it for an unbounded time.
const EXCLUDED = new Set<number>([SYS.exit, SYS.exit_group, SYS.futex, SYS.nanosleep]);
const interesting = [0n, 1n, 8n, 4096n, 0x40_0000n, 0x60_0000n, 0x7fff_ffdf_f000n, 0x7eff_ffff_f000n, 2n ** 47n, 2n ** 63n, 2n ** 64n - 1n, -1n & (2n ** 64n - 1n)];
const arg = fc.oneof(fc.constantFrom(...interesting), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 65536n }));
const nr = fc.oneof(fc.constantFrom(...SYSCALLS.map((s) => s.nr)), fc.integer({ min: 0, max: 1024 })).filter((n) => !EXCLUDED.has(n));

describe('random system calls from user mode', () => {
  it('never throw on the host, never touch another process, and always return', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(nr, fc.array(arg, { minLength: 6, maxLength: 6 })), { minLength: 1, maxLength: 25 }), (calls) => {
        const sys = boot({ cores: 2, trace: false });
        const k = sys.kernel(0);
        // The victim fills a page with a pattern and then sleeps through the attack.
        const victim = k.spawn(
          program('victim', function* (env) {
            const page = yield* env.mem.alloc(4096);
            yield* env.mem.store(page, new Uint8Array(4096).fill(0xa5));
            yield* env.sys.nanosleep(1e12);
          }),
          { rank: 0, jobSize: 1, uid: 1, argv: ['victim'], envp: [] },
        );
        let returned = 0;
        const attacker = k.spawn(
          program('attacker', function* (env) {
            for (const [n, a] of calls) {
              yield* env.sys.raw(n, ...a);
              returned++;
            }
            yield* env.sys.exitGroup(0);
          }),
          { rank: 0, jobSize: 1, uid: 2, argv: ['attacker'], envp: [] },
        );
        sys.run({ until: 900e9, done: () => !attacker.alive });
        expect(k.stats.oopses).toBe(0);
        expect(attacker.exitReason === null || !attacker.exitReason.startsWith('kernel oops')).toBe(true);
        // Every call came back (clone may have made threads; they die with the process).
        if (attacker.exitStatus === 0) expect(returned).toBe(calls.length);
        expect(victim.alive).toBe(true);
        const heap = victim.aspace.regions.find((r) => r.kind === 'heap')!;
        const bytes = sys.physical(0, heap.pa, 4096);
        expect(bytes.every((b) => b === 0xa5)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
