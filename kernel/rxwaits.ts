// Receive DMAs a kernel subsystem (job control, the DSM) started and waits
// for: what to run when each one completes, by receive id. nicdispatch.ts
// asks each subsystem whether a completion is its own.

import type { Cpu } from './cpu.ts';
import type { KPath } from './step.ts';

export class RxWaits {
  private readonly waiting = new Map<number, (cpu: Cpu) => KPath>();

  /** Runs `then` when receive `rxId` completes (not when it fails). */
  set(rxId: number, then: (cpu: Cpu) => KPath): void {
    this.waiting.set(rxId, then);
  }

  has(rxId: number): boolean {
    return this.waiting.has(rxId);
  }

  /** Receive `rxId` ended: runs what waits for it if the data arrived; a failed one is dropped. */
  *complete(rxId: number, ok: boolean, cpu: Cpu): KPath {
    const then = this.waiting.get(rxId);
    this.waiting.delete(rxId);
    if (ok && then !== undefined) yield* then(cpu);
  }
}
