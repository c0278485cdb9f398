// What every fuzz target shares: a seeded generator of hostile values, the
// counts a target reports, and running a machine so that a host exception
// or a kernel oops is counted (never thrown at the caller).

import { Rng } from '../../hw/rng.ts';
import type { System } from '../../system/system.ts';

export interface FuzzCounts {
  readonly target: string;
  readonly seed: number;
  /** Calls issued (syscalls, Portals calls). */
  calls: number;
  /** Calls that returned an error code (-errno or a PTL_* code other than PTL_OK). */
  refused: number;
  /** Machines built and run. */
  machines: number;
  /** Processes killed by the kernel (a fault, a bad operation): allowed, the kernel survived. */
  killed: number;
  /** Runs that ended at the end of simulated time. */
  endOfTime: number;
  /** Kernel oopses: must be 0. */
  oopses: number;
  /** Exceptions that escaped the machine into the host: must be 0. */
  hostExceptions: number;
  /** The first few oops and host-exception messages, to reproduce from. */
  failures: string[];
}

export function newCounts(target: string, seed: number): FuzzCounts {
  return { target, seed, calls: 0, refused: 0, machines: 0, killed: 0, endOfTime: 0, oopses: 0, hostExceptions: 0, failures: [] };
}

/** Runs a machine with a bound on simulated time and events; adds what happened to `counts`. */
export function runMachine(sys: System, counts: FuzzCounts, done: () => boolean, label: () => string): void {
  counts.machines++;
  try {
    const stop = sys.run({ done, until: 2e12, maxEvents: 3_000_000 });
    if (stop.kind === 'end-of-time') counts.endOfTime++;
  } catch (e) {
    counts.hostExceptions++;
    if (counts.failures.length < 10) counts.failures.push(`${label()}: host exception ${(e as Error)?.stack ?? String(e)}`);
  }
  for (const k of sys.bootedKernels()) {
    counts.oopses += k.stats.oopses;
    for (const m of k.oopsLog) if (counts.failures.length < 10) counts.failures.push(`${label()}: ${m}`);
    for (const p of k.processes.values()) if (p.exitReason !== null) counts.killed++;
  }
}

/** Hostile values: the edges of every integer type, past the address space, past the end of time. */
export const EDGES: readonly bigint[] = [
  0n, 1n, 7n, 8n, 4095n, 4096n, 2n ** 21n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 46n, 2n ** 47n - 4096n,
  2n ** 47n - 1n, 2n ** 47n, 2n ** 52n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 62n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 2n, 2n ** 64n - 1n,
];

/** A seeded source of values; nothing here uses Math.random. */
export class Gen {
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  int(n: number): number {
    return this.rng.nextInt(n);
  }
  chance(p: number): boolean {
    return this.rng.nextFloat() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.rng.nextInt(xs.length)];
  }
  u64(): bigint {
    return (BigInt(this.rng.nextU32()) << 32n) | BigInt(this.rng.nextU32());
  }
  edge(): bigint {
    return this.pick(EDGES);
  }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const x = this.rng.nextU32();
      for (let j = 0; j < 4 && i + j < n; j++) b[i + j] = (x >>> (8 * j)) & 0xff;
    }
    return b;
  }
  /** A fresh seed for a sub-generator (a process's own stream). */
  fork(): number {
    return this.rng.nextU32();
  }
}
