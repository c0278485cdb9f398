// The interrupt vector table: one list of every vector the kernel uses, with
// Kitten/Linux-like numbering (exceptions 0-31, devices from 0x40, the APIC
// timer at 0xef, cross-call and reschedule IPIs at the top). Handlers are
// attached by name in irq.ts; docs are generated from this list.

export const VECTORS = [
  { vector: 14, name: 'page-fault', doc: 'page fault exception (#PF); enters the fault path, not the interrupt wrapper' },
  { vector: 0x50, name: 'nic-rx', doc: 'NIC: a message header has arrived' },
  { vector: 0x51, name: 'nic-completion', doc: 'NIC: a transmit or receive DMA completed (or failed)' },
  { vector: 0x52, name: 'unet', doc: 'NIC: a U-Net control message between kernels arrived, or an endpoint\'s upcall (receive queue became non-empty)' },
  { vector: 0xef, name: 'apic-timer', doc: 'local APIC timer: sleep deadlines and the round-robin quantum' },
  { vector: 0xfc, name: 'xcall', doc: 'cross-call IPI: run a function on another core (TLB shootdown)' },
  { vector: 0xfd, name: 'reschedule', doc: 'reschedule IPI: a thread homed on this core became runnable' },
  { vector: 0xff, name: 'spurious', doc: 'spurious interrupt' },
] as const;

export type VectorName = (typeof VECTORS)[number]['name'];

export const VECTOR: Readonly<Record<VectorName, number>> = Object.fromEntries(VECTORS.map((v) => [v.name, v.vector])) as Record<VectorName, number>;

const BY_NUMBER = new Map<number, VectorName>(VECTORS.map((v) => [v.vector, v.name]));

export function vectorName(v: number): string {
  return BY_NUMBER.get(v) ?? `vector 0x${v.toString(16)}`;
}
