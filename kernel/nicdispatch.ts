// The NIC's two interrupts: received headers and completions go to Portals,
// to job control, the kernel DSM or the IPC transport, by the header's kind, the transmit's cookie range, or
// which of them is waiting for a receive DMA. Portals and job control know
// nothing of each other; only this file knows both.

import type { NicCompletion } from '../hw/nic.ts';
import type { Cpu } from './cpu.ts';
import type { Kernel } from './kernel.ts';
import { cookieOwner, headerOwner } from './nicwire.ts';
import { type KPath, step } from './step.ts';

/** Registers the NIC interrupt handlers (module-level, so every kernel shares the vector table). */
export function attachNic(k: Kernel): void {
  k.requestIrq('nic-rx', nicRx);
  k.requestIrq('nic-completion', nicCompletion);
}

// Switches rather than ts-pattern in this file: they run for every message
// and completion, and the matchers' objects were 4% of the bytes a job load
// allocates (measured on hello, 256 nodes).

function* nicRx(k: Kernel, cpu: Cpu): KPath {
  for (const rx of k.node.nic.takeRxHeaders()) {
    const owner = headerOwner(rx.header);
    switch (owner) {
      case 'jobctl':
        yield* k.jobs.receive(rx, cpu);
        break;
      case 'portals':
        yield* k.portals.receive(rx, cpu);
        break;
      case 'dsm':
        yield* k.dsm.receive(rx, cpu);
        break;
      case 'ipc':
        yield* k.ipc.transport.receive(rx, cpu);
        break;
      default:
        unreachable(owner);
    }
  }
}

function* nicCompletion(k: Kernel, cpu: Cpu): KPath {
  // Completions wait in the kernel's queue, so one whose path oopses does not lose the rest.
  const queue = k.nicCompletions;
  queue.push(...k.node.nic.takeCompletions());
  for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
    yield step('portals', 'completion', 20, c.kind);
    yield* completion(k, c, cpu);
  }
}

/** One completion, to the subsystem whose transmit or receive it ends. */
function completion(k: Kernel, c: NicCompletion, cpu: Cpu): KPath {
  switch (c.kind) {
    case 'tx-done':
    case 'tx-undeliverable':
    case 'tx-error': {
      const owner = cookieOwner(c.cookie);
      switch (owner) {
        case 'jobctl':
          return k.jobs.txComplete(c.cookie, c.kind === 'tx-done', c.kind === 'tx-done' ? '' : c.reason, cpu);
        case 'portals':
          return k.portals.txComplete(c, cpu);
        case 'dsm':
          return k.dsm.txComplete(c, cpu);
        case 'ipc':
          return k.ipc.transport.txComplete(c, cpu);
        default:
          return unreachable(owner);
      }
    }
    case 'rx-done':
    case 'rx-error':
      // Asked of the subsystems made so far: one never used is waiting for no receive.
      if (k.existing('jobs')?.ownsRx(c.rxId) === true) return k.jobs.rxComplete(c.rxId, c.kind === 'rx-done', cpu);
      if (k.existing('dsm')?.ownsRx(c.rxId) === true) return k.dsm.rxComplete(c.rxId, c.kind === 'rx-done', cpu);
      if (k.existing('ipc')?.transport.ownsRx(c.rxId) === true) return k.ipc.transport.rxComplete(c.rxId, c.kind === 'rx-done', cpu);
      return k.portals.rxComplete(c, cpu);
    default:
      return unreachable(c);
  }
}

/** Compile-time exhaustiveness for the switches above (a new case fails to type-check). */
function unreachable(x: never): never {
  throw new Error(`unhandled case ${JSON.stringify(x)}`);
}
