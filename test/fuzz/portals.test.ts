import { describe, expect, it } from 'vitest';
import { fuzzPortals } from './portals.fuzz.ts';

describe('random Portals call sequences on two nodes (bounded, seeded)', () => {
  it('never throw out of the machine and never oops the kernel', () => {
    const c = fuzzPortals(20261201, 1000);
    expect(c.failures).toEqual([]);
    expect(c.hostExceptions).toBe(0);
    expect(c.oopses).toBe(0);
    expect(c.calls).toBeGreaterThanOrEqual(1000);
    // Some calls succeed (data moves between the nodes), most hostile ones are refused.
    expect(c.refused).toBeGreaterThan(c.calls / 4);
    expect(c.refused).toBeLessThan(c.calls);
  }, 30_000);

  it('is deterministic: the same seed gives the same counts', () => {
    expect(fuzzPortals(7, 200)).toEqual(fuzzPortals(7, 200));
  }, 30_000);
});
