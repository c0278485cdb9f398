import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logTicks, niceTicks, svgPlot } from '../../monitor/svgplot.ts';

const SWEEP = [
  { name: 'flat', points: [1, 2, 3, 4, 8, 16, 64, 1024].map((x) => ({ x, y: 20 + 9.1 * x })) },
  { name: 'binomial', points: [1, 2, 3, 4, 8, 16, 64, 1024].map((x) => ({ x, y: 20 + 30 * Math.log2(x) })) },
];

const attr = (tag: string, name: string) => Number(new RegExp(`${name}="([-\\d.]+)"`).exec(tag)![1]);

describe('the sweep plot', () => {
  it('puts y ticks at 1, 2 or 5 times a power of ten, from 0, as plain numbers', () => {
    expect(niceTicks(0, 2340).ticks).toEqual([0, 500, 1000, 1500, 2000, 2500]);
    expect(niceTicks(0, 0.37).ticks).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    const svg = svgPlot('t', 'x', 'y', SWEEP);
    const labels = [...svg.matchAll(/text-anchor="end">([^<]*)</g)].map((m) => m[1]);
    expect(labels).toEqual(['0', '2000', '4000', '6000', '8000', '10000']);
  });

  it('covers the data with nice ticks whatever its range (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-6, max: 1e12, noNaN: true }), (max) => {
        const { ticks, step } = niceTicks(0, max);
        const mantissa = step / 10 ** Math.floor(Math.log10(step));
        expect([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6)).toBe(true);
        expect(ticks[0]).toBe(0);
        expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(max * (1 - 1e-9));
        expect(ticks.length).toBeLessThanOrEqual(11);
      }),
      { seed: 11, numRuns: 500 },
    );
  });

  it('keeps the rotated y title clear of the widest tick label', () => {
    const svg = svgPlot('t', 'x', 'load phase (us)', SWEEP);
    const titleX = Number(/translate\(([\d.]+) /.exec(svg)![1]);
    const labels = [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" text-anchor="end">([^<]*)</g)];
    const leftmost = Math.min(...labels.map((m) => Number(m[1]) - m[2].length * 7));
    expect(titleX + 8).toBeLessThan(leftmost); // 12px text rotated: half its height each side of x
  });

  it('marks every measured point and dashes a jump of more than a factor of two', () => {
    const svg = svgPlot('t', 'x', 'y', SWEEP);
    expect(svg.match(/<circle /g)).toHaveLength(2 * 8 + 2); // points, and one in each legend entry
    const segments = svg.split('\n').filter((l) => l.startsWith('<line') && l.includes('stroke-width="2"') && !l.includes('x1="645'));
    const dashed = segments.filter((l) => l.includes('stroke-dasharray'));
    expect(dashed).toHaveLength(2 * 2); // 16 to 64 and 64 to 1024 in each series; doublings are solid
    expect(segments.length - dashed.length).toBe(2 * 5);
    for (const l of dashed) expect(attr(l, 'x2') - attr(l, 'x1')).toBeGreaterThan(0);
  });

  it('plots y on a log scale with --log-y, ticks at powers of ten', () => {
    expect(logTicks(20, 9400)).toEqual([10, 100, 1000, 10000]);
    expect(logTicks(20, 400)).toEqual([20, 50, 100, 200, 500]);
    const svg = svgPlot('t', 'x', 'y', SWEEP, { logY: true });
    expect(svg).toContain('y, log scale');
    expect([...svg.matchAll(/text-anchor="end">([^<]*)</g)].map((m) => m[1])).toEqual(['10', '100', '1000', '10000']);
  });

  it('uses a log-2 x axis only when the counts span a factor of ten', () => {
    expect(svgPlot('t', 'nodes', 'y', SWEEP)).toContain('nodes (log scale)');
    const few = [{ name: 'flat', points: [1, 2, 3, 4, 5, 6].map((x) => ({ x, y: x })) }];
    expect(svgPlot('t', 'nodes', 'y', few)).not.toContain('log scale');
  });
});
