// Event density per node per lookahead window: the figures behind
// docs/SCALING.md's design for running one machine on many cores
// (conservative parallel simulation partitioned by node, the minimum hop
// latency as lookahead). It runs a job as `margay run` does, counts every
// event against the node whose component it fires in (a core, APIC or NIC
// of that node, or the router the message head reaches), window by window
// of one lookahead, and for P partitions of consecutive nodes sums, per
// window, the events of the busiest partition: the critical path a
// window-synchronous parallel run cannot beat. Measurement only; it changes
// nothing simulated.
//
//   npx tsx bench/eventdensity.ts APP SHAPE [FANOUT]   e.g. hello 27x16x24 binomial

import { machineChoice, parse } from '../monitor/args.ts';
import { launch } from '../monitor/launch.ts';
import { resolveProgram } from '../monitor/programs.ts';
import { System } from '../system/system.ts';
import { parseFanout } from '../userland/lib/jobblock.ts';

const PARTS = [2, 4, 8, 16, 64, 256];

const [app = 'hello', shape = '32x32', fanoutText = 'binomial'] = process.argv.slice(2);
const choice = machineChoice(parse(['--shape', shape], { shape: { type: 'string' } }, 0));
const sys = new System(choice);
sys.trace.enabled = false;
const n = sys.machine.size;
const lookahead = sys.machine.network.params.routerLatencyPs + sys.machine.network.params.wireLatencyPs;

// Events of the current window, by node; nodes touched in it.
const perNode = new Float64Array(n);
const touched: number[] = [];
let window = -1;
let events = 0;
let unattributed = 0;
let activeWindows = 0;
let firstWindow = -1;
let activeNodeWindows = 0;
let maxNodeInWindow = 0;
const critical = PARTS.map(() => 0);
const partSums = PARTS.map((p) => new Float64Array(p));

function closeWindow(): void {
  if (touched.length === 0) return;
  activeWindows++;
  activeNodeWindows += touched.length;
  PARTS.forEach((p, i) => {
    const sums = partSums[i];
    sums.fill(0);
    const per = Math.ceil(n / p);
    for (const node of touched) sums[Math.floor(node / per)] += perNode[node];
    let max = 0;
    for (const s of sums) if (s > max) max = s;
    critical[i] += max;
  });
  for (const node of touched) {
    if (perNode[node] > maxNodeInWindow) maxNodeInWindow = perNode[node];
    perNode[node] = 0;
  }
  touched.length = 0;
}

function count(time: number, node: number): void {
  const w = Math.floor(time / lookahead);
  if (w !== window) {
    closeWindow();
    window = w;
    if (firstWindow < 0) firstWindow = w;
  }
  events++;
  if (perNode[node] === 0) touched.push(node);
  perNode[node]++;
}

// The network's events carry their router in the payload (the observer does not see payloads).
const net = sys.machine.network;
const fireNet = net.fire.bind(net);
net.fire = (kind, arg, payload) => {
  count(sys.machine.engine.now, (payload as { at: number }).at);
  fireNet(kind, arg, payload);
};
sys.machine.engine.observer = (time, sink) => {
  if (sink === net) return;
  const s = sink as { node?: number; kernel?: { nid?: number } };
  const node = typeof s.node === 'number' ? s.node : s.kernel?.nid;
  if (typeof node === 'number') count(time, node);
  else unattributed++;
};

const fanout = parseFanout(fanoutText)!;
const program = await resolveProgram(app);
const job = launch(sys, { load: 'two-phase', fanout, programs: [program], map: [{ firstNid: 0, count: n - 1, image: 0 }], argv: [], timeoutUs: 10_000_000 });
const t0 = performance.now();
sys.run({ done: () => sys.jobDone(job), until: 60e12 });
const wall = (performance.now() - t0) / 1000;
closeWindow();
const spanWindows = window - firstWindow + 1;
process.stdout.write(
  JSON.stringify(
    {
      app,
      shape,
      fanout: fanoutText,
      nodes: n,
      profile: choice.profile.name,
      lookahead_ps: lookahead,
      sim_end_ns: sys.machine.engine.now / 1000,
      events,
      unattributed,
      wall_s: +wall.toFixed(1),
      windows_spanned: spanWindows,
      windows_with_events: activeWindows,
      events_per_active_window: +(events / activeWindows).toFixed(2),
      nodes_per_active_window: +(activeNodeWindows / activeWindows).toFixed(2),
      events_per_node_per_window: +(events / (spanWindows * n)).toFixed(5),
      events_per_busy_node_per_window: +(events / activeNodeWindows).toFixed(3),
      max_events_one_node_one_window: maxNodeInWindow,
      // Speed-up bound with P partitions: all events over the sum of each window's busiest partition.
      bound_speedup: Object.fromEntries(PARTS.map((p, i) => [p, +(events / critical[i]).toFixed(2)])),
    },
    null,
    2,
  ) + '\n',
);
