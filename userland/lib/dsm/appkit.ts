// What every DSM app does around its own work: parse the command line
// (appargs.ts), open the region, run the body, publish this rank's DSM
// counters (faults, read_faults, write_faults, invalidations, dsm_syscalls,
// crossings, messages, switches), detach. A usage error prints one line and
// exits 2.

import type { UserProgram } from '../../../kernel/abi.ts';
import type { U } from '../ops.ts';
import { type Env, program } from '../runtime.ts';
import { type Dsm, openDsm } from './api.ts';
import { type DsmArgs, type ParamSpec, parseDsmArgs } from './appargs.ts';

export interface DsmAppContext {
  readonly env: Env;
  readonly dsm: Dsm;
  readonly args: DsmArgs;
  readonly p: Record<string, number>;
  readonly rank: number;
  readonly size: number;
}

export interface DsmAppSpec {
  readonly params: ParamSpec;
  /** Ranks the app needs at least. */
  readonly minRanks?: number;
  /** Bytes of shared region for these parameters on `size` ranks. */
  readonly bytes: (p: Record<string, number>, size: number) => number;
  readonly body: (c: DsmAppContext) => U<number | void>;
  /** Why these arguments cannot run (a usage error, checked before the region is opened), or null. */
  readonly refuse?: (args: DsmArgs) => string | null;
}

export function dsmApp(name: string, spec: DsmAppSpec): UserProgram {
  return program(name, function* main(env) {
    const args = parseDsmArgs(name, env.argv, spec.params);
    if (typeof args === 'string') {
      yield* env.sys.print(`${args}\n`, 2);
      return 2;
    }
    const why = spec.refuse?.(args) ?? null;
    if (why !== null) {
      yield* env.sys.print(`${name}: ${why}\n`, 2);
      return 2;
    }
    const rank = yield* env.sys.getrank();
    const size = yield* env.sys.getsize();
    if (size < (spec.minRanks ?? 1)) {
      yield* env.sys.print(`${name} needs at least ${spec.minRanks} ranks (--nodes ${spec.minRanks})\n`, 2);
      return 2;
    }
    const dsm = yield* openDsm(env, args.impl, spec.bytes(args.params, size), args.opts);
    const status = yield* spec.body({ env, dsm, args, p: args.params, rank, size });
    const s = yield* dsm.stats();
    const pub = [
      ['faults', s.faults],
      ['read_faults', s.readFaults],
      ['write_faults', s.writeFaults],
      ['invalidations', s.invalidations],
      ['dsm_syscalls', s.syscalls],
      ['crossings', s.crossings],
      ['messages', s.messages],
      ['switches', s.switches],
    ] as const;
    for (const [k, v] of pub) yield* env.sys.publish(k, v);
    yield* dsm.detach();
    return status ?? 0;
  });
}

/** Simulated ns now (a syscall: call it outside measured loops). */
export function* nowNs(env: Env): U<number> {
  return yield* env.sys.clockNs();
}
