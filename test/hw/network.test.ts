import { describe, expect, it } from 'vitest';
import { Engine } from '../../hw/engine.ts';
import { type NetMessage, Network } from '../../hw/network.ts';
import { Topology } from '../../hw/topology.ts';

const GB = 1e9;

function setup(dims: number[], kind: 'mesh' | 'torus' = 'mesh') {
  const engine = new Engine();
  const topo = new Topology({ kind, dims });
  const arrivals: { msg: NetMessage; head: number; tail: number }[] = [];
  const dropped: { msg: NetMessage; reason: string }[] = [];
  const net = new Network(topo, engine, { linkBandwidth: 1 * GB, routerLatencyPs: 40_000, wireLatencyPs: 10_000 }, {
    arrive: (msg, tail) => arrivals.push({ msg, head: engine.now, tail }),
    undeliverable: (msg, reason) => dropped.push({ msg, reason }),
  });
  const send = (src: number, dst: number, bytes: number) => {
    const msg: NetMessage = { src, dst, wireBytes: bytes, at: src, tailEnd: engine.now, hops: 0, injectedAt: 0 };
    net.inject(msg);
    return msg;
  };
  return { engine, topo, net, arrivals, dropped, send };
}

describe('the network', () => {
  it('delivers with zero-load latency hops x (router + wire) plus serialization', () => {
    const { engine, arrivals, send, net } = setup([8]);
    send(0, 3, 1000);
    engine.runUntilIdle();
    expect(arrivals).toHaveLength(1);
    expect(arrivals[0].head).toBe(3 * 50_000);
    // 1000 B at 1 GB/s = 1 us of serialization.
    expect(arrivals[0].tail).toBe(3 * 50_000 + 1_000_000);
    expect(arrivals[0].tail).toBe(net.zeroLoadPs(1000, 3));
  });

  it('serializes two messages that share a link', () => {
    const { engine, arrivals, send } = setup([4]);
    send(0, 2, 1000);
    send(0, 2, 1000);
    engine.runUntilIdle();
    const [a, b] = arrivals;
    // The second waits for the first to clear the first link: 1 us later.
    expect(b.tail - a.tail).toBe(1_000_000);
    expect(b.head - a.head).toBe(1_000_000);
  });

  it('does not delay messages on disjoint routes', () => {
    const { engine, arrivals, send } = setup([4, 4]);
    send(0, 1, 1000);
    send(4, 5, 1000);
    engine.runUntilIdle();
    expect(arrivals[0].tail).toBe(arrivals[1].tail);
  });

  it('lets messages cross in opposite directions without contention', () => {
    const { engine, arrivals, send } = setup([2]);
    send(0, 1, 1000);
    send(1, 0, 1000);
    engine.runUntilIdle();
    expect(arrivals[0].tail).toBe(arrivals[1].tail);
  });

  it('counts bytes, messages and busy time per link', () => {
    const { engine, send, net, topo } = setup([3]);
    send(0, 2, 500);
    engine.runUntilIdle();
    const stats = net.linkStats();
    expect(stats.map((s) => s.name).sort()).toEqual([topo.describeLink(0), topo.describeLink(topo.linksPerNode)].sort());
    expect(stats.every((s) => s.bytes === 500 && s.messages === 1 && s.busyPs === 500_000)).toBe(true);
  });

  it('reports a message whose route crosses a down link as undeliverable', () => {
    const { engine, send, net, topo, arrivals, dropped } = setup([4]);
    net.setLinkDown(topo.route(1, 2)[0], true);
    send(0, 3, 100);
    send(2, 3, 100);
    engine.runUntilIdle();
    expect(dropped).toHaveLength(1);
    expect(dropped[0].msg.src).toBe(0);
    expect(dropped[0].reason).toMatch(/link .* is down/);
    expect(arrivals.map((a) => a.msg.src)).toEqual([2]);
  });

  it('reports a message to a down node as undeliverable and forwards one through it (its router still works)', () => {
    const { engine, send, net, dropped, arrivals } = setup([4]);
    net.setNodeDown(2, true);
    send(0, 3, 100);
    send(0, 2, 100);
    engine.runUntilIdle();
    expect(dropped.map((d) => d.reason)).toEqual(['node 2 is down']);
    expect(arrivals.map((a) => a.msg.dst)).toEqual([3]);
  });

  it('delivers a message to its own node without using a link', () => {
    const { engine, send, arrivals, net } = setup([4]);
    send(1, 1, 64);
    engine.runUntilIdle();
    expect(arrivals).toHaveLength(1);
    expect(net.linkStats()).toHaveLength(0);
  });
});
