import { describe, expect, it } from 'vitest';
import { fuzzSyscalls } from './syscalls.fuzz.ts';

describe('random syscalls with hostile arguments (bounded, seeded)', () => {
  it('never throw out of the machine and never oops the kernel', () => {
    const c = fuzzSyscalls(20261201, 1500);
    expect(c.failures).toEqual([]);
    expect(c.hostExceptions).toBe(0);
    expect(c.oopses).toBe(0);
    expect(c.calls).toBeGreaterThanOrEqual(1500);
    // The fuzzer reaches the kernel's refusals, not only its happy paths.
    expect(c.refused).toBeGreaterThan(c.calls / 4);
  }, 30_000);

  it('is deterministic: the same seed gives the same counts', () => {
    expect(fuzzSyscalls(7, 200)).toEqual(fuzzSyscalls(7, 200));
  }, 30_000);
});
