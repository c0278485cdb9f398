// Seed 002's Table 1 on the Paragon profile: the null RPC, local and remote,
// for both transports. The per-message costs were calibrated from these very
// numbers (docs/IPC.md shows how), so this pins that the mechanism the
// calibration was made on still composes the same way: a change to the
// message path, the transport or the trap shows up here.

import { describe, expect, it } from 'vitest';
import APP from '../../userland/apps/ipc_rpc.ts';
import { machine } from './helpers.ts';

const TABLE_1_US = { norma: { local: 220, remote: 2070 }, dipc: { local: 318, remote: 1272 } } as const;

function nullRpc(transport: 'norma' | 'dipc') {
  const sys = machine({ nodes: 2, transport });
  const job = sys.launchDirect(APP, [0, 1], ['10']);
  sys.run({ done: () => sys.jobDone(job), until: 100e12 });
  const r = Object.fromEntries(job.ranks[0].process!.results);
  return { local: Number(r.local_rpc_ns) / 1000, remote: Number(r.remote_rpc_ns) / 1000 };
}

describe("seed 002's Table 1 (null RPC on the Paragon)", () => {
  for (const transport of ['norma', 'dipc'] as const) {
    it(`gives the ${transport} null RPC within 2 % of Table 1, local and remote`, () => {
      const got = nullRpc(transport);
      expect(got.local).toBeGreaterThan(TABLE_1_US[transport].local * 0.98);
      expect(got.local).toBeLessThan(TABLE_1_US[transport].local * 1.02);
      expect(got.remote).toBeGreaterThan(TABLE_1_US[transport].remote * 0.98);
      expect(got.remote).toBeLessThan(TABLE_1_US[transport].remote * 1.02);
    });
  }
});
