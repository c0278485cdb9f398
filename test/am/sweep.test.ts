// `margay sweep latency`: the four message paths of issue 13 against size,
// as JSON and SVG, and a clear usage error for a bad size.

import { describe, expect, it } from 'vitest';
import { UsageError } from '../../monitor/args.ts';
import { type LatencySweep, runLatencySweep } from '../../monitor/sweeps/latency.ts';

function capture() {
  const docs: unknown[] = [];
  return { out: { say: () => {}, note: () => {}, json: (d: unknown) => docs.push(d) }, docs };
}

describe('margay sweep latency', () => {
  it('puts raw U-Net below AM over U-Net below AM over Portals at every size', () => {
    const { out, docs } = capture();
    expect(runLatencySweep(['--sizes', '0,512'], out)).toBe(0);
    const r = docs[0] as LatencySweep;
    expect(r.series.map((s) => s.path)).toEqual(['raw U-Net', 'AM over U-Net', 'AM over Portals', 'Portals put, kernel extension', 'Portals put, user process']);
    for (let i = 0; i < r.sizes.length; i++) {
      const [unet, amUnet, amPortals] = r.series.map((s) => s.round_trip_ns[i]!);
      expect(unet).toBeLessThan(amUnet);
      expect(amUnet).toBeLessThan(amPortals);
    }
  });

  it('puts the extension-answered put above zero and below the put a user process answers at every size', () => {
    const { out, docs } = capture();
    expect(runLatencySweep(['--sizes', '0,4096'], out)).toBe(0);
    const r = docs[0] as LatencySweep;
    const ext = r.series.find((s) => s.path === 'Portals put, kernel extension')!.round_trip_ns;
    const user = r.series.find((s) => s.path === 'Portals put, user process')!.round_trip_ns;
    for (let i = 0; i < r.sizes.length; i++) {
      expect(ext[i]!).toBeGreaterThan(0);
      expect(ext[i]!).toBeLessThan(user[i]!);
    }
  });

  it('refuses a size over 4 KiB with a usage error', () => {
    expect(() => runLatencySweep(['--sizes', '0,9999'], capture().out)).toThrow(UsageError);
  });
});
