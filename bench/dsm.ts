// `npm run bench -- dsm`: the DSM comparison of seed 003 on each profile --
// fault service time per step with system calls and crossings per fault,
// the gap as the serving node gets busy, and speedup against nodes for the
// apps. A quick look: smaller apps and 1..8 nodes; the tables of
// docs/DSM.md come from `margay sweep dsm` (larger apps, 1..32 nodes).

import { DSM_CONFIG_NAMES, busyGap, faultService, speedup } from '../monitor/dsmmeasure.ts';

const APP_ARGS: Record<string, string[]> = {
  dsm_jacobi: ['n=64', 'iterations=6'],
  dsm_matmul: ['n=48'],
  dsm_counter: ['increments=10'],
};

export function benchDsm(profiles: readonly string[] = ['redstorm', 'modern'], counts: readonly number[] = [1, 2, 4, 8]) {
  return profiles.map((profile) => ({
    profile,
    fault_service: Object.fromEntries(DSM_CONFIG_NAMES.map((c) => [c, faultService(profile, c)])),
    busy_gap: busyGap(profile, DSM_CONFIG_NAMES, [0, 1, 2]),
    speedup: Object.fromEntries(Object.entries(APP_ARGS).map(([app, args]) => [app, Object.fromEntries(['kernel', 'user'].map((c) => [c, speedup(profile, app, c as 'kernel' | 'user', counts, args)]))])),
  }));
}
