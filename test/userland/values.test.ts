// Odd values from a user program are refused with a message that says what
// was wrong, never passed silently or leaked as a JavaScript error
// (issue 11 item 6).

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { type Main, program } from '../../userland/lib/runtime.ts';

function runOne(main: Main) {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [1] }, seed: 1 });
  sys.trace.enabled = false;
  const job = sys.launchDirect(program('odd', main), [0], []);
  sys.run({ done: () => sys.jobDone(job), until: 1e12 });
  const p = job.ranks[0].process!;
  return { status: p.exitStatus, reason: p.exitReason ?? '', stdout: p.stdout.join('') };
}

describe('the value main returns', () => {
  for (const [what, v] of [
    ["a string ('abc')", 'abc'],
    ['1e10', 1e10],
    ['NaN', NaN],
    ['-1', -1],
    ['2.5', 2.5],
    ['256', 256],
  ] as const) {
    it(`is refused when it is ${what}: the rank fails and the reason names the value`, () => {
      const r = runOne(function* () {
        return v as unknown as number;
      });
      expect(r.status).not.toBe(0);
      expect(r.reason).toMatch(/main returned .+: an exit status is a whole number from 0 to 255/);
      expect(r.reason).not.toMatch(/BigInt/);
    });
  }

  it('is the exit status when it is a whole number 0..255, and 0 when main returns nothing', () => {
    expect(runOne(function* () {
      return 255;
    }).status).toBe(255);
    expect(runOne(function* () {}).status).toBe(0);
  });
});

describe('library calls with odd arguments', () => {
  it('sys.raw(NaN) fails with a message about the argument, not a BigInt error', () => {
    const r = runOne(function* (env) {
      yield* env.sys.raw(NaN);
    });
    expect(r.reason).toMatch(/syscall number NaN is not a whole number/);
    const s = runOne(function* (env) {
      yield* env.sys.raw(39, Infinity);
    });
    expect(s.reason).toMatch(/syscall 39: argument 1 is Infinity, not a finite number/);
  });

  it('mem.alloc refuses a negative or fractional size', () => {
    for (const n of [-5, 1.5, NaN]) {
      const r = runOne(function* (env) {
        yield* env.mem.alloc(n);
      });
      expect(r.status).not.toBe(0);
      expect(r.reason).toMatch(/mem\.alloc: .* is not a size/);
    }
  });

  it('a load or store at a negative address is refused with the address in decimal, never as 0x-8', () => {
    const r = runOne(function* (env) {
      yield* env.mem.load(-8, 8);
    });
    expect(r.reason).toMatch(/mem\.load at -8: not an address/);
    const s = runOne(function* (env) {
      yield* env.mem.storeU64(-1, 1n);
    });
    expect(s.reason).toMatch(/mem\.store at -1: not an address/);
    expect(r.reason + s.reason).not.toMatch(/0x-/);
  });
});
