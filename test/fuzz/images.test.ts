import { describe, expect, it } from 'vitest';
import { fuzzImages } from './images.fuzz.ts';

describe('the image fuzzer', () => {
  it('finds no host exception, no changed image accepted and no unclear refusal in 300 mutants (75 loaded on a machine)', async () => {
    const c = await fuzzImages(20261201, 300);
    expect(c.failures).toEqual([]);
    expect(c.hostExceptions).toBe(0);
    expect(c.violations).toBe(0);
    expect(c.cases).toBe(300);
    expect(c.rejected + c.unchanged).toBe(300);
    expect(c.rejected).toBeGreaterThan(280);
    expect(c.nacked).toBeGreaterThan(60);
  }, 30_000);

  it('refuses every changed image under another seed, checked without loading', async () => {
    const c = await fuzzImages(7, 60, 1000);
    expect(c.violations).toBe(0);
    expect(c.cases - c.unchanged).toBe(c.rejected);
  });
});
