import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalApic } from '../../hw/apic.ts';
import { Core } from '../../hw/core.ts';
import { Engine } from '../../hw/engine.ts';
import { Tlb } from '../../hw/tlb.ts';

function core(): Core {
  const apics: LocalApic[] = [];
  const apic = new LocalApic(0, 0, new Engine(), apics, 100e6, 500_000);
  apics.push(apic);
  return new Core(0, 0, new Tlb(8), apic);
}

describe('a core\'s registers', () => {
  it('step rip past an instruction modulo 2^64, carrying into the high half (seeded)', () => {
    const c = core();
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: 0, max: 4096 }), (rip, by) => {
        c.set('rip', rip);
        c.advanceRip(by);
        expect(c.get('rip')).toBe(BigInt.asUintN(64, rip + BigInt(by)));
      }),
      { seed: 17, numRuns: 300 },
    );
    c.set('rip', 0xfffffffen);
    c.advanceRip(4);
    expect(c.get('rip')).toBe(0x100000002n);
    c.set('rip', 2n ** 64n - 2n);
    c.advanceRip(4);
    expect(c.get('rip')).toBe(2n);
  });

  it('copy one register to another whole, all 64 bits (seeded)', () => {
    const c = core();
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (a, b) => {
        c.set('rip', a);
        c.set('rcx', b);
        c.copy('rcx', 'rip');
        expect([c.get('rcx'), c.get('rip')]).toEqual([a, a]);
      }),
      { seed: 17, numRuns: 200 },
    );
  });

  it('set and clear only rflags.IF when interrupts are opened and closed (seeded)', () => {
    const c = core();
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.boolean(), (flags, on) => {
        c.set('rflags', flags);
        c.setInterruptsEnabled(on);
        expect(c.interruptsEnabled).toBe(on);
        expect(c.get('rflags')).toBe(on ? flags | (1n << 9n) : flags & ~(1n << 9n));
      }),
      { seed: 17, numRuns: 300 },
    );
  });

  it('hold any value modulo 2^64, as 64-bit registers do, from a BigInt or a whole number', () => {
    const c = core();
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (b, n) => {
        c.set('rax', b);
        expect(c.get('rax')).toBe(BigInt.asUintN(64, b));
        c.set('rdi', n);
        expect(c.get('rdi')).toBe(BigInt.asUintN(64, BigInt(n)));
        expect(c.getNumber('rdi')).toBe(n >= 0 ? n : NaN);
      }),
      { seed: 17, numRuns: 500 },
    );
  });

  it('refuses a fraction rather than storing a rounded value', () => {
    expect(() => core().set('rax', 1.5)).toThrow(RangeError);
  });
});

describe('a core\'s time in each mode', () => {
  it('charges every stretch to the mode it was spent in, the current one included', () => {
    const c = core();
    c.setMode('user', 100);
    c.setMode('kernel', 350);
    c.setMode('user', 400);
    c.setMode('idle', 1000);
    expect(c.modeTimes(1500)).toEqual({ idle: 100 + 500, user: 250 + 600, kernel: 50 });
  });
});
