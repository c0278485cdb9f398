import { describe, expect, it } from 'vitest';
import { fuzzMonitor } from './monitor.fuzz.ts';

describe('the monitor fuzzer', () => {
  it('finds no thrown exception and no internal error in 1000 hostile monitor lines and 100 CLI command lines', async () => {
    const c = await fuzzMonitor(20261201, 1000);
    expect(c.failures).toEqual([]);
    expect(c.hostExceptions).toBe(0);
    expect(c.internalErrors).toBe(0);
    expect(c.lines).toBeGreaterThanOrEqual(1000);
    expect(c.cliCases).toBe(100);
    // The lines exercise both paths: refusals and commands that ran.
    expect(c.errors).toBeGreaterThan(300);
    expect(c.lines - c.errors).toBeGreaterThan(100);
  }, 30_000);
});
