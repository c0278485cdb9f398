// Futex wait queues, keyed by address space and user address.

import type { AddressSpace } from './aspace.ts';
import type { Thread } from './process.ts';

export class FutexTable {
  private readonly queues = new Map<AddressSpace, Map<number, Thread[]>>();

  enqueue(aspace: AddressSpace, va: number, t: Thread): void {
    let m = this.queues.get(aspace);
    if (m === undefined) {
      m = new Map();
      this.queues.set(aspace, m);
    }
    const q = m.get(va);
    if (q === undefined) m.set(va, [t]);
    else q.push(t);
  }

  /** Removes and returns up to `n` waiters, oldest first. */
  take(aspace: AddressSpace, va: number, n: number): Thread[] {
    const m = this.queues.get(aspace);
    const q = m?.get(va);
    if (q === undefined) return [];
    const out = q.splice(0, Math.max(0, n));
    if (q.length === 0) m!.delete(va);
    return out;
  }

  remove(aspace: AddressSpace, va: number, t: Thread): boolean {
    const q = this.queues.get(aspace)?.get(va);
    const i = q?.indexOf(t) ?? -1;
    if (i < 0) return false;
    q!.splice(i, 1);
    return true;
  }

  forget(aspace: AddressSpace): void {
    this.queues.delete(aspace);
  }

  waiters(aspace: AddressSpace): number {
    let n = 0;
    for (const q of this.queues.get(aspace)?.values() ?? []) n += q.length;
    return n;
  }
}
