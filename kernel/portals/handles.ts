// One table of handles: each live handle names one object of one kind held
// by one owner. A lookup names the kinds it accepts and the owner asking, so
// a handle of another kind, a freed handle or another owner's handle never
// resolves. Portals keeps one per NI (its event queues, counters, memory
// descriptors and list entries); the handle numbers come from the caller's
// `encode`, so user programs see the numbers they always saw.

interface Slot<V, O> {
  readonly value: V;
  readonly owner: O;
}

/** `Objects` maps each kind to the type of its objects; `Owner` is who may resolve a handle. */
export class HandleTable<Objects extends { [K in keyof Objects]: object }, Owner> {
  // One map per kind, each in allocation order (iteration by kind keeps that order).
  private readonly byKind = new Map<keyof Objects, Map<number, Slot<Objects[keyof Objects], Owner>>>();
  private nextSlot = 1;

  /** `encode` turns a kind and a running slot number (from 1) into the handle users see. */
  constructor(private readonly encode: (kind: keyof Objects, slot: number) => number) {}

  /** Allocates a handle of `kind` for `owner` and the object `make` builds around it; a handle still live is never handed out again. */
  alloc<K extends keyof Objects>(kind: K, owner: Owner, make: (handle: number) => Objects[K]): Objects[K] {
    let handle = this.encode(kind, this.nextSlot++);
    while (this.live(handle)) handle = this.encode(kind, this.nextSlot++);
    const value = make(handle);
    let m = this.byKind.get(kind);
    if (m === undefined) this.byKind.set(kind, (m = new Map()));
    m.set(handle, { value, owner });
    return value;
  }

  /** The object `handle` names if it is live, of one of `kinds`, and `owner`'s. */
  get<K extends keyof Objects>(handle: number, kinds: K | readonly K[], owner: Owner): Objects[K] | undefined {
    for (const kind of typeof kinds === 'object' ? (kinds as readonly K[]) : [kinds as K]) {
      const s = this.byKind.get(kind)?.get(handle);
      if (s !== undefined) return s.owner === owner ? (s.value as Objects[K]) : undefined;
    }
    return undefined;
  }

  /** Frees `handle` if it is live, of one of `kinds`, and `owner`'s; true if it was. */
  free<K extends keyof Objects>(handle: number, kinds: K | readonly K[], owner: Owner): boolean {
    if (this.get(handle, kinds, owner) === undefined) return false;
    for (const m of this.byKind.values()) m.delete(handle);
    return true;
  }

  /** The live objects of `kind`, in allocation order. */
  *values<K extends keyof Objects>(kind: K): IterableIterator<Objects[K]> {
    const m = this.byKind.get(kind);
    if (m !== undefined) for (const s of m.values()) yield s.value as Objects[K];
  }

  /** How many handles of `kind` are live. */
  count(kind: keyof Objects): number {
    return this.byKind.get(kind)?.size ?? 0;
  }

  private live(handle: number): boolean {
    for (const m of this.byKind.values()) if (m.has(handle)) return true;
    return false;
  }
}
