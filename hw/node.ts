// One node of the machine: physical memory, cores with TLBs and local APICs
// on a shared APIC bus, and a NIC. Nodes are built on first use, so a
// 100,000-node machine costs memory only for the nodes a run touches.

import { LocalApic } from './apic.ts';
import { Core } from './core.ts';
import type { Engine } from './engine.ts';
import { PhysicalMemory } from './memory.ts';
import { Nic } from './nic.ts';
import type { Network } from './network.ts';
import type { Profile } from './profile.ts';
import { Tlb } from './tlb.ts';

export class Node {
  readonly memory: PhysicalMemory;
  readonly cores: readonly Core[];
  readonly nic: Nic;

  constructor(
    readonly id: number,
    profile: Profile,
    engine: Engine,
    network: Network,
  ) {
    const v = profile.values;
    this.memory = new PhysicalMemory(id, v['memory.bytes']);
    const bus: LocalApic[] = [];
    const cores: Core[] = [];
    for (let c = 0; c < v['cpu.cores']; c++) {
      const apic = new LocalApic(id, c, engine, bus, v['apic.timerHz'], v['apic.ipiLatencyPs']);
      bus.push(apic);
      cores.push(new Core(id, c, new Tlb(v['tlb.entries']), apic));
    }
    this.cores = cores;
    this.nic = new Nic(
      id,
      engine,
      this.memory,
      network,
      {
        dmaBandwidth: v['nic.dmaBandwidth'],
        injectionBandwidth: v['nic.injectionBandwidth'],
        txSetupPs: v['nic.txSetupPs'],
        rxHeaderPs: v['nic.rxHeaderPs'],
        rxSetupPs: v['nic.rxSetupPs'],
      },
      (core, vector) => this.cores[core].apic.raise(vector),
      {
        dmaBandwidth: v['nic.dmaBandwidth'],
        injectionBandwidth: v['nic.injectionBandwidth'],
        doorbellPs: v['unet.doorbellPs'],
        descDmaPs: v['unet.descDmaPs'],
        rxDemuxPs: v['unet.rxDemuxPs'],
        writebackPs: v['unet.writebackPs'],
        headerBytes: v['unet.headerBytes'],
      },
    );
  }
}
