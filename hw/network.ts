// The interconnect: links per direction with bandwidth and per-hop latency,
// virtual cut-through simulated per message. The head advances one hop per
// event; a link carries one message at a time and is busy for the message's
// serialization time, so a message whose next link is busy waits
// (contention). Links and nodes can be marked down. A down link drops what
// reaches it; a down node is one whose host (kernel, NIC) is down while its
// router, a separate chip as SeaStar is, still forwards: messages for it are
// dropped at its router, messages crossing it get through. Either way the
// sender is told at once that its message was undeliverable.

import type { Engine, EventSink } from './engine.ts';
import type { Topology } from './topology.ts';
import { transferPs } from './time.ts';

/** What the network needs to know of a message; the NIC owns the rest. */
export interface NetMessage {
  readonly src: number;
  readonly dst: number;
  /** Header plus payload bytes on the wire. */
  readonly wireBytes: number;
  /** Node the head is at. */
  at: number;
  /** Time the tail leaves the stage the head just crossed (cut-through pipeline). */
  tailEnd: number;
  /** Links crossed so far. */
  hops: number;
  /** Simulated time the head was injected. */
  injectedAt: number;
}

export interface NetworkParams {
  readonly linkBandwidth: number;
  readonly routerLatencyPs: number;
  readonly wireLatencyPs: number;
}

export interface NetworkHandlers {
  /** The head reached the destination router; the tail arrives at `tailTime`. */
  arrive(msg: NetMessage, tailTime: number): void;
  /** The route reached a down link or node. */
  undeliverable(msg: NetMessage, reason: string): void;
}

/** Per-link counters, as the monitor's heat map reads them. */
export interface LinkStats {
  readonly link: number;
  readonly name: string;
  readonly bytes: number;
  readonly messages: number;
  readonly busyPs: number;
}

const HEAD_AT_ROUTER = 0;

export class Network implements EventSink {
  readonly freeAt: Float64Array;
  readonly linkBytes: Float64Array;
  readonly linkBusyPs: Float64Array;
  readonly linkMessages: Uint32Array;
  private readonly linkDown: Uint8Array;
  private readonly nodeDown: Uint8Array;
  private readonly hopLatency: number;
  /** Messages delivered / undeliverable, and total hops crossed. */
  delivered = 0;
  undeliverable = 0;
  totalHops = 0;

  constructor(
    readonly topology: Topology,
    private readonly engine: Engine,
    readonly params: NetworkParams,
    private readonly handlers: NetworkHandlers,
  ) {
    const links = topology.size * topology.linksPerNode;
    this.freeAt = new Float64Array(links);
    this.linkBytes = new Float64Array(links);
    this.linkBusyPs = new Float64Array(links);
    this.linkMessages = new Uint32Array(links);
    this.linkDown = new Uint8Array(links);
    this.nodeDown = new Uint8Array(topology.size);
    this.hopLatency = params.routerLatencyPs + params.wireLatencyPs;
  }

  /**
   * Injects a message whose head enters the source router now; the tail
   * leaves the source NIC at msg.tailEnd.
   */
  inject(msg: NetMessage): void {
    msg.at = msg.src;
    msg.hops = 0;
    msg.injectedAt = this.engine.now;
    this.headAt(msg);
  }

  fire(kind: number, _arg: number, payload: unknown): void {
    if (kind === HEAD_AT_ROUTER) this.headAt(payload as NetMessage);
  }

  describe(_kind: number, _arg: number, payload: unknown): string {
    const m = payload as NetMessage;
    return `net: head of ${m.src}->${m.dst} (${m.wireBytes} B) reaches router ${m.at}`;
  }

  private headAt(msg: NetMessage): void {
    const now = this.engine.now;
    if (this.nodeDown[msg.at] && (msg.at === msg.dst || msg.at === msg.src)) {
      this.drop(msg, `node ${msg.at} is down`);
      return;
    }
    const link = this.topology.nextLink(msg.at, msg.dst);
    if (link < 0) {
      this.delivered++;
      this.totalHops += msg.hops;
      // The tail crosses the last hop's latency after leaving the last link.
      const tail = msg.hops > 0 ? msg.tailEnd + this.hopLatency : msg.tailEnd;
      this.handlers.arrive(msg, tail > now ? tail : now);
      return;
    }
    if (this.linkDown[link]) {
      this.drop(msg, `link ${this.topology.describeLink(link)} is down`);
      return;
    }
    // Cut-through: the head takes the link as soon as it is free; the tail
    // leaves it no sooner than serialization allows and no sooner than it
    // arrived from the previous stage.
    const start = this.freeAt[link] > now ? this.freeAt[link] : now;
    const serial = transferPs(msg.wireBytes, this.params.linkBandwidth);
    const fromPrev = msg.tailEnd + this.hopLatency;
    const end = start + serial > fromPrev ? start + serial : fromPrev;
    this.freeAt[link] = end;
    this.linkBytes[link] += msg.wireBytes;
    this.linkBusyPs[link] += end - start;
    this.linkMessages[link]++;
    msg.tailEnd = end;
    msg.hops++;
    msg.at = this.topology.linkTarget(link);
    this.engine.at(start + this.hopLatency, this, HEAD_AT_ROUTER, 0, msg);
  }

  private drop(msg: NetMessage, reason: string): void {
    this.undeliverable++;
    this.handlers.undeliverable(msg, reason);
  }

  setLinkDown(link: number, down: boolean): void {
    if (!Number.isInteger(link) || link < 0 || link >= this.linkDown.length) throw new RangeError(`no link ${link}`);
    this.linkDown[link] = down ? 1 : 0;
  }

  setNodeDown(node: number, down: boolean): void {
    this.topology.checkNode(node);
    this.nodeDown[node] = down ? 1 : 0;
  }

  isNodeDown(node: number): boolean {
    return this.nodeDown[node] === 1;
  }

  isLinkDown(link: number): boolean {
    return this.linkDown[link] === 1;
  }

  /** Links that have carried traffic, busiest first. */
  linkStats(limit = Infinity): LinkStats[] {
    const out: LinkStats[] = [];
    for (let l = 0; l < this.linkMessages.length; l++) {
      if (this.linkMessages[l] === 0) continue;
      out.push({
        link: l,
        name: this.topology.describeLink(l),
        bytes: this.linkBytes[l],
        messages: this.linkMessages[l],
        busyPs: this.linkBusyPs[l],
      });
    }
    out.sort((a, b) => b.busyPs - a.busyPs || a.link - b.link);
    return out.slice(0, limit);
  }

  /** Zero-load latency of a message of `bytes` over `hops` hops (head plus serialization). */
  zeroLoadPs(bytes: number, hops: number): number {
    return hops * this.hopLatency + transferPs(bytes, this.params.linkBandwidth);
  }
}
