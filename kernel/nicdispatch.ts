// The NIC's two interrupts: received headers and completions go to Portals,
// to job control, to the kernel DSM or to distributed IPC, by the header's kind, the transmit's cookie range, or
// which of them is waiting for a receive DMA. Portals and job control know
// nothing of each other; only this file knows both.

import { match } from 'ts-pattern';
import type { NicCompletion } from '../hw/nic.ts';
import type { Cpu } from './cpu.ts';
import type { Kernel } from './kernel.ts';
import { cookieOwner, headerOwner } from './nicwire.ts';
import { type KPath, step } from './step.ts';

/** Registers the NIC interrupt handlers. */
export function attachNic(k: Kernel): void {
  // Completions wait in this queue, so one whose path oopses does not lose the rest.
  const queue: NicCompletion[] = [];
  k.requestIrq('nic-rx', function* (_k, cpu) {
    for (const rx of k.node.nic.takeRxHeaders()) {
      yield* match(headerOwner(rx.header))
        .with('jobctl', () => k.jobs.receive(rx, cpu))
        .with('portals', () => k.portals.receive(rx, cpu))
        .with('dsm', () => k.dsm.receive(rx, cpu))
        .with('ipc', () => k.ipc.transport.receive(rx, cpu))
        .exhaustive();
    }
  });
  k.requestIrq('nic-completion', function* (_k, cpu) {
    queue.push(...k.node.nic.takeCompletions());
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
      yield step('portals', 'completion', 20, c.kind);
      yield* completion(k, c, cpu);
    }
  });
}

/** One completion, to the subsystem whose transmit or receive it ends. */
function completion(k: Kernel, c: NicCompletion, cpu: Cpu): KPath {
  return match(c)
    .with({ kind: 'tx-done' }, { kind: 'tx-undeliverable' }, { kind: 'tx-error' }, (t) =>
      match(cookieOwner(t.cookie))
        .with('jobctl', () => k.jobs.txComplete(t.cookie, t.kind === 'tx-done', t.kind === 'tx-done' ? '' : t.reason, cpu))
        .with('portals', () => k.portals.txComplete(t, cpu))
        .with('dsm', () => k.dsm.txComplete(t, cpu))
        .with('ipc', () => k.ipc.transport.txComplete(t, cpu))
        .exhaustive(),
    )
    .with({ kind: 'rx-done' }, { kind: 'rx-error' }, (r) =>
      k.jobs.ownsRx(r.rxId)
        ? k.jobs.rxComplete(r.rxId, r.kind === 'rx-done', cpu)
        : k.dsm.ownsRx(r.rxId)
          ? k.dsm.rxComplete(r.rxId, r.kind === 'rx-done', cpu)
          : k.ipc.transport.ownsRx(r.rxId)
            ? k.ipc.transport.rxComplete(r.rxId, r.kind === 'rx-done', cpu)
            : k.portals.rxComplete(r, cpu),
    )
    .exhaustive();
}
