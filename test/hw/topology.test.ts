import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../hw/errors.ts';
import { Topology, parseShape, shapeForNodes } from '../../hw/topology.ts';

// Independent reference distance: sum over dimensions of |dx| (mesh) or min(|dx|, n-|dx|) (torus).
function refDistance(t: Topology, a: number, b: number): number {
  const ca = t.coords(a);
  const cb = t.coords(b);
  let h = 0;
  ca.forEach((x, d) => {
    const dx = Math.abs(x - cb[d]);
    h += t.kind === 'torus' ? Math.min(dx, t.dims[d] - dx) : dx;
  });
  return h;
}

const SMALL = ['mesh:4x4', 'torus:4x4', 'mesh:3x2x2', 'torus:5x3', 'torus:2x3x2', 'mesh:7', 'torus:6', 'torus:3x2x2x2'];

describe('topology', () => {
  it('parses mesh, torus and bare shapes of any dimension', () => {
    expect(parseShape('mesh:4x4', 'torus')).toEqual({ kind: 'mesh', dims: [4, 4] });
    expect(parseShape('torus:24x23x24x2x3x2', 'mesh').dims).toEqual([24, 23, 24, 2, 3, 2]);
    expect(parseShape('8x8', 'torus')).toEqual({ kind: 'torus', dims: [8, 8] });
  });

  it('rejects malformed shapes with a clear message', () => {
    expect(() => parseShape('ring:4', 'mesh')).toThrow(ConfigError);
    expect(() => parseShape('4x0', 'mesh')).toThrow(/at least 1/);
    expect(() => parseShape('99999x99999', 'mesh')).toThrow(/at most/);
  });

  it('maps node ids to coordinates and back, dimension 0 fastest', () => {
    const t = new Topology({ kind: 'mesh', dims: [27, 16, 24] });
    expect(t.size).toBe(10368);
    expect(t.coords(1)).toEqual([1, 0, 0]);
    expect(t.coords(27)).toEqual([0, 1, 0]);
    for (const id of [0, 5, 431, 10367]) expect(t.id(t.coords(id))).toBe(id);
  });

  for (const s of SMALL) {
    it(`routes every pair of ${s} in exactly the mesh/torus distance`, () => {
      const t = new Topology(parseShape(s, 'mesh'));
      for (let a = 0; a < t.size; a++) {
        for (let b = 0; b < t.size; b++) {
          const route = t.route(a, b);
          expect(route.length).toBe(refDistance(t, a, b));
          expect(t.distance(a, b)).toBe(route.length);
          let cur = a;
          for (const l of route) {
            expect(Math.floor(l / t.linksPerNode)).toBe(cur);
            cur = t.linkTarget(l);
          }
          expect(cur).toBe(b);
        }
      }
    });
  }

  it('resolves the lowest dimension first', () => {
    const t = new Topology({ kind: 'mesh', dims: [4, 4] });
    const path = [0];
    for (const l of t.route(t.id([0, 0]), t.id([3, 2]))) path.push(t.linkTarget(l));
    expect(path.map((n) => t.coords(n))).toEqual([[0, 0], [1, 0], [2, 0], [3, 0], [3, 1], [3, 2]]);
  });

  it('goes the shorter way round a torus, and the positive way on a tie', () => {
    const t = new Topology({ kind: 'torus', dims: [8] });
    expect(t.route(1, 7).map((l) => t.linkTarget(l))).toEqual([0, 7]);
    expect(t.route(0, 4).map((l) => t.linkTarget(l))).toEqual([1, 2, 3, 4]);
    expect(t.route(4, 0).map((l) => t.linkTarget(l))).toEqual([5, 6, 7, 0]);
  });

  it('knows the diameter of Red Storm and of a torus', () => {
    expect(new Topology({ kind: 'mesh', dims: [27, 16, 24] }).diameter).toBe(26 + 15 + 23);
    expect(new Topology({ kind: 'torus', dims: [8, 8, 8] }).diameter).toBe(12);
  });

  it('chooses a low-diameter shape for a node count', () => {
    expect(shapeForNodes(16, 3, 'mesh').dims).toEqual([4, 2, 2]);
    const s = shapeForNodes(17, 3, 'mesh');
    expect(s.dims.reduce((a, b) => a * b)).toBeGreaterThanOrEqual(17);
    expect(shapeForNodes(1, 3, 'torus').dims).toEqual([1, 1, 1]);
  });
});
