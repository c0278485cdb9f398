// The whole machine: profile, one event engine, one seeded PRNG, the
// topology and network, and the nodes (built on first use).

import { Engine } from './engine.ts';
import { ConfigError } from './errors.ts';
import { Network } from './network.ts';
import type { NicMessage } from './nic.ts';
import { Node } from './node.ts';
import { type Profile, validateProfile } from './profile.ts';
import { Rng } from './rng.ts';
import { type Shape, Topology } from './topology.ts';

export interface MachineConfig {
  readonly profile: Profile;
  /** Defaults to the profile's topology kind and shape. */
  readonly shape?: Shape;
  readonly seed?: number;
}

export class Machine {
  readonly profile: Profile;
  readonly engine = new Engine();
  readonly rng: Rng;
  readonly seed: number;
  readonly topology: Topology;
  readonly network: Network;
  private readonly nodes: (Node | undefined)[];
  private built = 0;
  /** Fault switch: payload bit flips still to make, and the smallest payload they hit. */
  private corruptions = { remaining: 0, minBytes: 1 };
  /** Bit flips made in transit so far. */
  corrupted = 0;
  /** Observer of every message whose head reaches its destination (the trace export's flows). */
  onArrive: ((msg: NicMessage) => void) | null = null;

  constructor(config: MachineConfig) {
    validateProfile(config.profile);
    this.profile = config.profile;
    this.seed = config.seed ?? 1;
    if (!Number.isSafeInteger(this.seed)) throw new ConfigError(`seed must be a whole number, got ${this.seed}`);
    this.rng = new Rng(this.seed);
    this.topology = new Topology(config.shape ?? { kind: config.profile.topology, dims: config.profile.shape });
    const v = this.profile.values;
    this.network = new Network(
      this.topology,
      this.engine,
      { linkBandwidth: v['net.linkBandwidth'], routerLatencyPs: v['net.routerLatencyPs'], wireLatencyPs: v['net.wireLatencyPs'] },
      {
        arrive: (msg, tailTime) => {
          this.maybeCorrupt(msg as NicMessage);
          this.onArrive?.(msg as NicMessage);
          this.node(msg.dst).nic.arrive(msg as NicMessage, tailTime);
        },
        undeliverable: (msg, reason) => this.node(msg.src).nic.undeliverable(msg as NicMessage, reason),
      },
    );
    this.nodes = new Array(this.topology.size);
  }

  get size(): number {
    return this.topology.size;
  }

  /** The node with this id, built on first use. */
  node(id: number): Node {
    let n = this.nodes[id];
    if (n === undefined) {
      this.topology.checkNode(id);
      n = new Node(id, this.profile, this.engine, this.network);
      this.nodes[id] = n;
      this.built++;
    }
    return n;
  }

  /** The node if it has been built, without building it. */
  existingNode(id: number): Node | undefined {
    return this.nodes[id];
  }

  /**
   * Fault switch: flips one bit (at a seeded position) in the payload of each
   * of the next `count` messages carrying at least `minBytes` on the wire.
   */
  corruptInTransit(count: number, minBytes = 1): void {
    this.corruptions = { remaining: count, minBytes };
  }

  private maybeCorrupt(msg: NicMessage): void {
    const c = this.corruptions;
    if (c.remaining === 0 || msg.payload.length < c.minBytes) return;
    c.remaining--;
    this.corrupted++;
    const bit = Math.floor(this.rng.nextFloat() * msg.payload.length * 8);
    msg.payload[bit >> 3] ^= 1 << (bit & 7);
  }

  /** Nodes built so far. */
  get builtNodes(): number {
    return this.built;
  }
}
