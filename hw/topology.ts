// Mesh and torus topologies of any dimension: node id <-> coordinates,
// distances, and dimension-order routing (lowest unresolved dimension first;
// on a torus the shorter way round, ties in the positive direction).
// Dimension 0 varies fastest in the node id.

import { ConfigError } from './errors.ts';
import type { TopologyKind } from './profile.ts';

/** Largest machine Margay will build (keeps link arrays within typed-array limits). */
const MAX_NODES = 1 << 22;

export interface Shape {
  readonly kind: TopologyKind;
  readonly dims: readonly number[];
}

/** Parses "mesh:4x4", "torus:27x16x24" or a bare "8x8" (which takes `defaultKind`). */
export function parseShape(text: string, defaultKind: TopologyKind): Shape {
  const m = /^\s*(?:(mesh|torus):)?(\d+(?:x\d+)*)\s*$/.exec(text);
  if (!m) throw new ConfigError(`cannot read shape '${text}' (examples: mesh:4x4, torus:27x16x24, 8x8)`);
  const kind = (m[1] as TopologyKind | undefined) ?? defaultKind;
  const dims = m[2].split('x').map(Number);
  checkDims(dims, text);
  return { kind, dims };
}

function checkDims(dims: readonly number[], text: string): void {
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw new ConfigError(`shape '${text}': every dimension must be a whole number of at least 1`);
  }
  const n = dims.reduce((a, b) => a * b, 1);
  if (n > MAX_NODES) throw new ConfigError(`shape '${text}' has ${n} nodes; Margay builds at most ${MAX_NODES}`);
}

/**
 * The shape with `ndims` dimensions holding at least `nodes` nodes that has
 * the smallest mesh diameter, and among those the fewest spare nodes:
 * 16 nodes in 3D give 4x2x2, 17 give 3x3x2 (one spare).
 */
export function shapeForNodes(nodes: number, ndims: number, kind: TopologyKind): Shape {
  if (!Number.isSafeInteger(nodes) || nodes < 1) throw new ConfigError(`node count must be a whole number of at least 1, got ${nodes}`);
  if (nodes > MAX_NODES) throw new ConfigError(`${nodes} nodes is more than Margay builds (${MAX_NODES})`);
  let best: number[] | null = null;
  let bestScore = Infinity;
  const search = (prefix: number[], remaining: number, left: number): void => {
    if (left === 1) {
      const d = [...prefix, Math.max(1, remaining)];
      const total = d.reduce((a, b) => a * b, 1);
      const waste = total - nodes;
      const diameter = d.reduce((a, b) => a + b - 1, 0);
      const score = diameter * MAX_NODES + waste;
      if (score < bestScore) {
        bestScore = score;
        best = d;
      }
      return;
    }
    const cap = Math.ceil(Math.pow(remaining, 1 / left)) + 2;
    for (let a = 1; a <= Math.min(cap, remaining); a++) {
      search([...prefix, a], Math.ceil(remaining / a), left - 1);
    }
  };
  search([], nodes, ndims);
  const dims = (best as number[] | null) ?? [nodes];
  dims.sort((a, b) => b - a);
  return { kind, dims };
}

export function formatShape(s: Shape): string {
  return `${s.kind}:${s.dims.join('x')}`;
}

export class Topology {
  readonly kind: TopologyKind;
  readonly dims: readonly number[];
  readonly ndims: number;
  readonly size: number;
  /** Outgoing link slots per node: one per dimension and direction. */
  readonly linksPerNode: number;
  private readonly strides: number[];

  constructor(shape: Shape) {
    checkDims(shape.dims, formatShape(shape));
    this.kind = shape.kind;
    this.dims = [...shape.dims];
    this.ndims = this.dims.length;
    this.strides = [];
    let s = 1;
    for (const d of this.dims) {
      this.strides.push(s);
      s *= d;
    }
    this.size = s;
    this.linksPerNode = 2 * this.ndims;
  }

  get isTorus(): boolean {
    return this.kind === 'torus';
  }

  coords(id: number): number[] {
    this.checkNode(id);
    const c: number[] = new Array(this.ndims);
    for (let d = 0; d < this.ndims; d++) {
      c[d] = id % this.dims[d];
      id = Math.floor(id / this.dims[d]);
    }
    return c;
  }

  id(coords: readonly number[]): number {
    if (coords.length !== this.ndims) throw new ConfigError(`expected ${this.ndims} coordinates, got ${coords.length}`);
    let id = 0;
    for (let d = 0; d < this.ndims; d++) {
      const x = coords[d];
      if (!Number.isInteger(x) || x < 0 || x >= this.dims[d]) {
        throw new ConfigError(`coordinate ${x} is outside dimension ${d} (0..${this.dims[d] - 1})`);
      }
      id += x * this.strides[d];
    }
    return id;
  }

  /** Coordinate of `id` along dimension `d`. */
  coord(id: number, d: number): number {
    return Math.floor(id / this.strides[d]) % this.dims[d];
  }

  checkNode(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) {
      throw new ConfigError(`node ${id} does not exist (this machine has nodes 0..${this.size - 1})`);
    }
  }

  /** Signed steps to take along dimension d from a to b under the routing rule. */
  private delta(a: number, b: number, d: number): number {
    const diff = b - a;
    if (!this.isTorus || diff === 0) return diff;
    const n = this.dims[d];
    const fwd = ((diff % n) + n) % n;
    const back = n - fwd;
    return fwd <= back ? fwd : -back;
  }

  /** Hop count between two nodes (the routing distance). */
  distance(a: number, b: number): number {
    let hops = 0;
    for (let d = 0; d < this.ndims; d++) hops += Math.abs(this.delta(this.coord(a, d), this.coord(b, d), d));
    return hops;
  }

  get diameter(): number {
    let hops = 0;
    for (const n of this.dims) hops += this.isTorus ? Math.floor(n / 2) : n - 1;
    return hops;
  }

  /** Number of links that physically exist (directed). */
  get linkCount(): number {
    let links = 0;
    for (let d = 0; d < this.ndims; d++) {
      const n = this.dims[d];
      const perLine = this.isTorus ? (n > 2 ? 2 * n : n === 2 ? 2 : 0) : 2 * (n - 1);
      links += perLine * (this.size / n);
    }
    return links;
  }

  /**
   * The next hop from `cur` towards `dst`, or -1 when cur === dst. The return
   * value is the outgoing link slot: cur * linksPerNode + 2*d + (negative ? 1 : 0).
   */
  nextLink(cur: number, dst: number): number {
    for (let d = 0; d < this.ndims; d++) {
      const step = this.delta(this.coord(cur, d), this.coord(dst, d), d);
      if (step !== 0) return cur * this.linksPerNode + 2 * d + (step < 0 ? 1 : 0);
    }
    return -1;
  }

  /** The node at the far end of outgoing link slot `link`. */
  linkTarget(link: number): number {
    const node = Math.floor(link / this.linksPerNode);
    const slot = link - node * this.linksPerNode;
    const d = slot >> 1;
    const neg = slot & 1;
    const n = this.dims[d];
    const x = this.coord(node, d);
    let y = neg ? x - 1 : x + 1;
    if (y < 0 || y >= n) {
      if (!this.isTorus) throw new ConfigError(`link ${link} leaves the mesh`);
      y = (y + n) % n;
    }
    return node + (y - x) * this.strides[d];
  }

  /** The links a message from a to b crosses, in order. */
  route(a: number, b: number): number[] {
    this.checkNode(a);
    this.checkNode(b);
    const links: number[] = [];
    let cur = a;
    for (let l = this.nextLink(cur, b); l >= 0; l = this.nextLink(cur, b)) {
      links.push(l);
      cur = this.linkTarget(l);
    }
    return links;
  }

  describeLink(link: number): string {
    const node = Math.floor(link / this.linksPerNode);
    const slot = link - node * this.linksPerNode;
    return `${node}${slot & 1 ? '-' : '+'}${'xyzuvw'[slot >> 1] ?? `d${slot >> 1}`}`;
  }
}
