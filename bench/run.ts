// `npm run bench`: runs every benchmark and prints one JSON document.
// Names on the command line select benchmarks (default: all).

import { type BusyHandlerResult, BUSY_PROFILES, benchBusyHandler, busyHandlerSvg } from './busyhandler.ts';
import { benchDsm } from './dsm.ts';
import { benchEbpf } from './ebpf.ts';
import { benchEngineHold } from './engine.ts';
import { benchExtCompare } from './extcompare.ts';
import { benchJobLaunch, benchScale } from './joblaunch.ts';
import { benchKernel } from './kernel.ts';
import { type KernelBypassResult, benchKernelBypass, kernelBypassSvg } from './kernelbypass.ts';
import { writeFileSync } from 'node:fs';
import { benchKernelBypassAm } from './kernelbypass_am.ts';
import { benchNetworkUniform } from './network.ts';
import { benchPerNode } from './pernode.ts';
import { benchPortals } from './portals.ts';

const BENCHES: Record<string, () => unknown> = {
  engine: () => benchEngineHold(100_000, 10_000_000),
  network: () => benchNetworkUniform(),
  ebpf: () => benchEbpf(),
  ext_compare: () => benchExtCompare(),
  portals: () => ['redstorm', 'paragon', 'modern'].map((p) => benchPortals(p)),
  kernel: () => ['redstorm', 'paragon', 'modern'].map((p) => benchKernel(p)),
  joblaunch: () => benchJobLaunch(),
  kernel_bypass: () => ['redstorm', 'paragon', 'modern', 'atm95'].map((p) => benchKernelBypass(p)),
  busy_handler: () => BUSY_PROFILES.map((p) => benchBusyHandler(p)),
};

/**
 * Long benchmarks, run only when named: `npm run bench scale` (Red Storm's
 * 10,368 nodes, three runs: a few minutes), `scale100k`, `scale_fugaku`
 * (158,976 nodes, one run, stopped after two hours of host time),
 * `pernode` (host bytes per idle and per loaded node), `dsm` (a few
 * minutes), `kernel_bypass_am`.
 */
const HEAVY: Record<string, () => unknown> = {
  dsm: () => benchDsm(),
  // Every message path at 7 sizes and the matrix multiply, on four profiles: about a minute.
  kernel_bypass_am: () => ['redstorm', 'paragon', 'modern', 'atm95'].map((p) => benchKernelBypassAm(p)),
  scale: () => benchScale('27x16x24'),
  scale100k: () => benchScale('torus:50x50x40', 1),
  // Fugaku's Tofu-D shape: a 6-D torus of 24x23x24x2x3x2 nodes.
  scale_fugaku: () => benchScale('torus:24x23x24x2x3x2', 1, '120min'),
  pernode: () => benchPerNode(2048),
};

const args = process.argv.slice(2);
// --svg FILE: with kernel_bypass, also plot its round trips against message size;
// with busy_handler (and no kernel_bypass), the round trip against the polling period.
const svgAt = args.indexOf('--svg');
const svgFile = svgAt >= 0 ? args[svgAt + 1] : undefined;
if (svgAt >= 0 && svgFile === undefined) {
  process.stderr.write('bench: --svg needs a file name\n');
  process.exit(2);
}
const wanted = svgAt >= 0 ? args.filter((_, i) => i !== svgAt && i !== svgAt + 1) : args;
for (const w of wanted) {
  if (!(w in BENCHES) && !(w in HEAVY)) {
    process.stderr.write(`bench: unknown benchmark '${w}' (known: ${[...Object.keys(BENCHES), ...Object.keys(HEAVY)].join(', ')})\n`);
    process.exit(2);
  }
}
const results: Record<string, unknown> = { node: process.version, date: new Date().toISOString() };
for (const [name, fn] of [...Object.entries(BENCHES), ...Object.entries(HEAVY)]) {
  if (wanted.length > 0 ? !wanted.includes(name) : name in HEAVY) continue;
  process.stderr.write(`bench: ${name}...\n`);
  results[name] = fn();
}
if (svgFile !== undefined && results.kernel_bypass !== undefined) writeFileSync(svgFile, kernelBypassSvg(results.kernel_bypass as KernelBypassResult[]));
else if (svgFile !== undefined && results.busy_handler !== undefined) writeFileSync(svgFile, busyHandlerSvg(results.busy_handler as BusyHandlerResult[]));
const engine = results.engine as { events_per_s?: number } | undefined;
if (engine?.events_per_s !== undefined) results.events_per_s = engine.events_per_s;
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
