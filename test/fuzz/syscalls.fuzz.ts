// Random system calls with hostile arguments: numbers from the table and
// outside it; arguments at the edges of every integer type, past the
// address space, pointers into the caller's own (random) memory, NaN from
// user code, and sleeps and computations past the end of simulated time.
// Counts host exceptions and kernel oopses (both must stay 0).

import { getProfile, withOverrides } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { type ArgType, SYSCALL_BY_NR, SYSCALLS } from '../../kernel/syscalls/table.ts';
import { program } from '../../userland/lib/runtime.ts';
import { type FuzzCounts, Gen, newCounts, runMachine } from './harness.ts';

const NRS = SYSCALLS.map((s) => s.nr);
/** Calls that end the caller: made rarely, so one machine gets through many calls. */
const ENDS_CALLER = new Set<number>(SYSCALLS.filter((s) => ['exit', 'exit_group', 'lwk_exec'].includes(s.name)).map((s) => s.nr));
const CALLS_PER_PROCESS = 400;
const BUF = 65536;

/** A value that is plausible for the argument's declared type, so that calls get past their first check. */
function plausible(g: Gen, type: ArgType, buf: number): bigint {
  switch (type) {
    case 'ptr':
      return BigInt(buf + 8 * g.int(BUF / 8 - 64));
    case 'size':
      return BigInt(g.pick([0, 1, 8, 88, 128, 4096, BUF / 2, g.int(BUF)]));
    case 'offset':
      return 0n;
    case 'timeout':
      // Forever, polling, a short wait, or a deadline at or past the end of simulated time.
      return g.pick([-1n & (2n ** 64n - 1n), 0n, 1000n, 2n ** 46n, 2n ** 52n, 2n ** 53n - 1n]);
    case 'fd':
      return BigInt(g.pick([0, 1, 2, 3])) | (g.chance(0.2) ? 2n ** 64n - 1n : 0n);
    case 'flags':
      return BigInt(g.pick([0, 1, 2, 3, 0x22, 0x32, 0x100 | 0x10000, g.int(1 << 24)]));
    case 'int':
      return g.chance(0.2) ? g.edge() : BigInt(g.int(8));
    case 'uint':
      return g.chance(0.5) ? BigInt(g.int(64)) : g.u64();
  }
}

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
          // Mostly arguments plausible for their types with one or two hostile ones, sometimes all hostile.
          const spec = SYSCALL_BY_NR.get(nr);
          const args: (bigint | number)[] = Array.from({ length: 6 }, (_, i) => (spec !== undefined && i < spec.args.length && pg.chance(0.7) ? plausible(pg, spec.args[i][1], buf) : arg(pg, buf)));
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
