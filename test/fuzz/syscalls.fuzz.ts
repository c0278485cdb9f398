// Random system calls with hostile arguments: numbers from the table and
// outside it; arguments at the edges of every integer type, past the
// address space, pointers into the caller's own (random) memory, NaN from
// user code, and sleeps and computations past the end of simulated time.
// Counts host exceptions and kernel oopses (both must stay 0).

import { getProfile, withOverrides } from '../../hw/profile.ts';
import { System } from '../../kernel/system.ts';
import { SYSCALLS } from '../../kernel/syscalls/table.ts';
import { program } from '../../userland/lib/runtime.ts';
import { type FuzzCounts, Gen, newCounts, runMachine } from './harness.ts';

const NRS = SYSCALLS.map((s) => s.nr);
/** Calls that end the caller: made rarely, so one machine gets through many calls. */
const ENDS_CALLER = new Set<number>(SYSCALLS.filter((s) => ['exit', 'exit_group', 'lwk_exec'].includes(s.name)).map((s) => s.nr));
const CALLS_PER_PROCESS = 400;
const BUF = 65536;

/** One value for an argument register. */
function arg(g: Gen, buf: number): bigint | number {
  switch (g.int(8)) {
    case 0:
    case 1:
      return g.edge();
    case 2:
      return BigInt(buf + g.int(BUF)); // inside the caller's buffer
    case 3:
      return BigInt(buf + BUF - g.int(16)); // straddling its end
    case 4:
      return BigInt(g.int(4096));
    case 5:
      return g.u64();
    case 6:
      return -BigInt(g.int(5)) & (2n ** 64n - 1n); // small negatives
    default:
      return g.chance(0.02) ? Number.NaN : BigInt(g.int(1 << 20));
  }
}

export function fuzzSyscalls(seed: number, iterations: number): FuzzCounts {
  const counts = newCounts('syscalls', seed);
  const g = new Gen(seed);
  while (counts.calls < iterations) {
    const machine = counts.machines;
    const profile = withOverrides(getProfile('redstorm'), { 'cpu.cores': 2, 'memory.bytes': 1 << 26 }, 'fuzz');
    const sys = new System({ profile, shape: { kind: 'mesh', dims: [2] }, seed: g.fork() });
    const pg = new Gen(g.fork());
    const budget = Math.min(CALLS_PER_PROCESS, iterations - counts.calls);
    const log: string[] = [];
    const job = sys.launchDirect(
      program('fuzz', function* (env) {
        const buf = yield* env.mem.alloc(BUF);
        yield* env.mem.store(buf, pg.bytes(BUF));
        for (let i = 0; i < budget; i++) {
          if (pg.chance(0.005)) {
            // Work that would end past the last picosecond.
            yield* env.compute(pg.pick([3e13, 1e300, Number.MAX_SAFE_INTEGER]));
            continue;
          }
          let nr: number = pg.chance(0.9) ? pg.pick(NRS) : pg.pick([-1, 2 ** 16, 2 ** 32 + 1, pg.int(1000), 2 ** 53]);
          if (ENDS_CALLER.has(nr) && pg.chance(0.9)) nr = 39; // getpid instead
          const args = Array.from({ length: 6 }, () => arg(pg, buf));
          counts.calls++;
          if (log.length < 8) log.push(`${nr}(${args.join(',')})`);
          else log[counts.calls % 8] = `${nr}(${args.join(',')})`;
          const r = yield* env.sys.raw(nr, ...args);
          if (r < 0) counts.refused++;
        }
        return 0;
      }),
      [0],
      [],
    );
    // A process that is killed or blocks for good ends its machine early; the next machine goes on.
    runMachine(sys, counts, () => sys.jobDone(job), () => `syscalls seed ${seed} machine ${machine} (recent: ${log.join(' ')})`);
  }
  return counts;
}
