// Network micro-benchmark: uniform random traffic on a 3D torus through the
// per-message cut-through model, reporting host throughput (messages and
// events per wall second) and what the simulated network saw.

import { Engine } from '../hw/engine.ts';
import { type NetMessage, Network } from '../hw/network.ts';
import { Rng } from '../hw/rng.ts';
import { Topology } from '../hw/topology.ts';

export interface NetworkBenchResult {
  shape: string;
  messages: number;
  bytes_per_message: number;
  wall_s: number;
  messages_per_s: number;
  events_per_s: number;
  mean_hops: number;
  mean_latency_ns: number;
  max_latency_ns: number;
  busiest_link_utilization: number;
}

export function benchNetworkUniform(dims = [16, 16, 16], perNode = 16, bytes = 4096, seed = 1): NetworkBenchResult {
  const engine = new Engine();
  const topo = new Topology({ kind: 'torus', dims });
  const rng = new Rng(seed);
  let latencySum = 0;
  let latencyMax = 0;
  let arrived = 0;
  const net = new Network(topo, engine, { linkBandwidth: 2e9, routerLatencyPs: 40_000, wireLatencyPs: 7_000 }, {
    arrive: (msg, tail) => {
      const lat = tail - msg.injectedAt;
      latencySum += lat;
      if (lat > latencyMax) latencyMax = lat;
      arrived++;
    },
    undeliverable: () => {},
  });
  // Each node injects perNode messages, one every 2 us of simulated time.
  const sink = {
    fire(_k: number, src: number) {
      const dst = rng.nextInt(topo.size);
      const msg: NetMessage = { src, dst, wireBytes: bytes, at: src, tailEnd: engine.now + Math.ceil((bytes * 1e12) / 1.5e9), hops: 0, injectedAt: 0 };
      net.inject(msg);
    },
    describe: () => 'inject',
  };
  for (let i = 0; i < perNode; i++) for (let n = 0; n < topo.size; n++) engine.at(i * 2_000_000 + n, sink, 0, n);
  const start = process.hrtime.bigint();
  engine.runUntilIdle();
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const messages = topo.size * perNode;
  const end = engine.now;
  const busiest = net.linkStats(1)[0];
  return {
    shape: `torus:${dims.join('x')}`,
    messages,
    bytes_per_message: bytes,
    wall_s: +wall.toFixed(3),
    messages_per_s: Math.round(messages / wall),
    events_per_s: Math.round(engine.fired / wall),
    mean_hops: +(net.totalHops / arrived).toFixed(2),
    mean_latency_ns: +(latencySum / arrived / 1000).toFixed(1),
    max_latency_ns: +(latencyMax / 1000).toFixed(1),
    busiest_link_utilization: busiest ? +(busiest.busyPs / end).toFixed(3) : 0,
  };
}
