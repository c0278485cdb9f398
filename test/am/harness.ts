// Runs an Active Messages program on two (or more) ranks of a small mesh,
// over either transport, and returns each rank's exit status, reason and
// published results.

import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import type { AmTransport } from '../../userland/lib/am/transport.ts';
import { amOverPortals } from '../../userland/lib/am/portals.ts';
import { amOverUnet } from '../../userland/lib/am/unet.ts';
import type { U } from '../../userland/lib/ops.ts';
import { type Env, program } from '../../userland/lib/runtime.ts';

export const TRANSPORTS = ['unet', 'portals'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

export function* transportOf(env: Env, name: TransportName): U<AmTransport> {
  return name === 'unet' ? yield* amOverUnet(env) : yield* amOverPortals(env);
}

export interface RankOutcome {
  readonly status: number;
  readonly reason: string;
  readonly results: Record<string, number>;
  readonly stdout: string;
}

export function runAm(name: TransportName, ranks: number, body: (env: Env, t: AmTransport) => U<number | void>, seed = 1): { ranks: RankOutcome[]; endNs: number } {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [ranks] }, seed });
  sys.trace.enabled = false;
  const prog = program('amtest', function* (env) {
    return yield* body(env, yield* transportOf(env, name));
  });
  const job = sys.launchDirect(prog, Array.from({ length: ranks }, (_, i) => i), []);
  // A rank that failed ends the run: its peer may be waiting for it forever.
  const failed = () => job.ranks.some((r) => r.process !== null && r.process.exitStatus !== null && r.process.exitStatus !== 0);
  sys.run({ done: () => sys.jobDone(job) || failed(), until: 1e11 });
  return {
    ranks: job.ranks.map((r) => {
      const p = r.process!;
      return { status: p.exitStatus ?? -1, reason: p.exitReason ?? '', results: Object.fromEntries(p.results), stdout: p.stdout.join('') };
    }),
    endNs: sys.now / 1000,
  };
}
