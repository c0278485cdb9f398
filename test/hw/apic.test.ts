import { describe, expect, it } from 'vitest';
import { LocalApic, NMI } from '../../hw/apic.ts';
import { Engine } from '../../hw/engine.ts';

function bus(cores = 2) {
  const engine = new Engine();
  const apics: LocalApic[] = [];
  for (let c = 0; c < cores; c++) apics.push(new LocalApic(0, c, engine, apics, 100e6, 500_000));
  return { engine, apics };
}

describe('the local APIC', () => {
  it('delivers the highest pending vector first', () => {
    const { apics } = bus(1);
    const a = apics[0];
    a.raise(0x41);
    a.raise(0x90);
    a.raise(0x60);
    expect(a.acknowledge()).toBe(0x90);
    a.eoi();
    expect(a.acknowledge()).toBe(0x60);
    a.eoi();
    expect(a.acknowledge()).toBe(0x41);
  });

  it('counts the interrupts it accepted on each vector (for info apic), and nothing before the first', () => {
    const { apics } = bus(1);
    const a = apics[0];
    expect([...a.accepted]).toEqual(new Array(256).fill(0));
    for (const v of [0x51, 0x40, 0x51, 0xff]) {
      a.raise(v);
      expect(a.acknowledge()).toBe(v);
      a.eoi();
    }
    a.raise(0x60); // pending, not accepted
    const counts = a.accepted;
    expect([counts[0x51], counts[0x40], counts[0xff], counts[0x60]]).toEqual([2, 1, 1, 0]);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(4);
    counts[0x51] = 99; // a copy: the APIC's own count is not changed through it
    expect(a.accepted[0x51]).toBe(2);
  });

  it('holds a vector of the same or lower class until EOI of the one in service', () => {
    const { apics } = bus(1);
    const a = apics[0];
    a.raise(0x55);
    expect(a.acknowledge()).toBe(0x55);
    a.raise(0x51);
    expect(a.hasDeliverable()).toBe(false);
    a.raise(0x70);
    expect(a.acknowledge()).toBe(0x70); // a higher class nests
    a.eoi();
    expect(a.hasDeliverable()).toBe(false); // 0x55 still in service
    a.eoi();
    expect(a.acknowledge()).toBe(0x51);
    expect(LocalApic.vectors(a.isr)).toEqual([0x51]);
  });

  it('signals the core\'s INTR line when an interrupt becomes pending, and again after EOI', () => {
    const { apics } = bus(1);
    const a = apics[0];
    let signals = 0;
    a.onPending = () => signals++;
    a.raise(0x40);
    a.acknowledge();
    a.raise(0x40);
    a.eoi();
    expect(signals).toBe(3);
  });

  it('sends IPIs to another core after the IPI latency', () => {
    const { engine, apics } = bus(2);
    apics[0].sendIpi(1, 0xf0);
    expect(apics[1].highestIrr()).toBe(-1);
    engine.runUntilIdle();
    expect(engine.now).toBe(500_000);
    expect(apics[1].acknowledge()).toBe(0xf0);
    expect([apics[0].ipisSent, apics[1].ipisReceived]).toEqual([1, 1]);
  });

  it('delivers an NMI regardless of what is in service', () => {
    const { engine, apics } = bus(2);
    apics[1].raise(0xff);
    apics[1].acknowledge();
    apics[0].sendIpi(1, NMI);
    engine.runUntilIdle();
    expect(apics[1].takeNmi()).toBe(true);
    expect(apics[1].takeNmi()).toBe(false);
  });

  it('rejects exception vectors and cores that do not exist', () => {
    const { apics } = bus(2);
    expect(() => apics[0].raise(3)).toThrow(/not a device vector/);
    expect(() => apics[0].sendIpi(5, 0x40)).toThrow(/has cores 0..1/);
  });

  it('fires a one-shot timer once and a periodic timer every period', () => {
    const { engine, apics } = bus(1);
    const a = apics[0];
    let fired = 0;
    a.onPending = () => {
      fired++;
      a.acknowledge();
      a.eoi();
    };
    a.setTimer('oneshot', 0xec, 1000); // 1000 ticks at 100 MHz = 10 us
    engine.runUntilIdle();
    expect(fired).toBe(1);
    expect(engine.now).toBe(10_000_000);
    a.setTimer('periodic', 0xec, 100);
    engine.runUntil(engine.now + 5_000_000);
    expect(fired).toBe(1 + 5);
    a.stopTimer();
    engine.runUntilIdle();
    expect(fired).toBe(6);
  });
});
