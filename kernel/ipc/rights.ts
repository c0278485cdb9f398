// A task's port name space: the rights it holds, by names that mean
// something only in that task. A name is an index and a generation, so a
// name freed and handed out again no longer reaches what the old name did:
// a task can use only a right it was given, under the name it was given.
// A slot whose generations are used up is retired, never reused: a
// generation that wrapped would make an old name valid again.

/** What a right lets its holder do. */
export type RightKind = 'receive' | 'send' | 'send-once';

export interface Right {
  readonly kind: RightKind;
  /** The port (its id says which node holds its receive right). */
  readonly port: number;
  /** The port sends No More Senders notifications (its send rights are counted at its node). */
  readonly nms: boolean;
}

/** Generations per index: names are index * GENERATIONS + generation (1 .. GENERATIONS - 1). */
export const GENERATIONS = 64;

/** Rights one task may hold. */
export const MAX_RIGHTS = 4096;

export class RightTable {
  private readonly slots: { gen: number; right: Right | null }[] = [];
  private readonly free: number[] = [];
  private live = 0;

  /** Inserts `r` under a new name; null when the table is full. */
  insert(r: Right): number | null {
    if (this.live >= MAX_RIGHTS) return null;
    let index = this.free.shift();
    if (index === undefined) {
      index = this.slots.length;
      this.slots.push({ gen: 0, right: null });
    }
    const slot = this.slots[index];
    slot.gen++;
    slot.right = r;
    this.live++;
    return index * GENERATIONS + slot.gen;
  }

  /** The right a name denotes now, or undefined (never given, freed, or a stale generation). */
  get(name: number): Right | undefined {
    if (!Number.isSafeInteger(name) || name < 0) return undefined;
    const slot = this.slots[Math.floor(name / GENERATIONS)];
    if (slot === undefined || slot.right === null || slot.gen !== name % GENERATIONS) return undefined;
    return slot.right;
  }

  /** Removes the right `name` denotes; returns it. */
  remove(name: number): Right | undefined {
    const r = this.get(name);
    if (r === undefined) return undefined;
    const index = Math.floor(name / GENERATIONS);
    const slot = this.slots[index];
    slot.right = null;
    // Its last generation was handed out: the slot is retired (a new index comes next), so no name of it comes back.
    if (slot.gen < GENERATIONS - 1) this.free.push(index);
    this.live--;
    return r;
  }

  /** Every right held, with its name. */
  entries(): [number, Right][] {
    const out: [number, Right][] = [];
    this.slots.forEach((s, i) => {
      if (s.right !== null) out.push([i * GENERATIONS + s.gen, s.right]);
    });
    return out;
  }

  get size(): number {
    return this.live;
  }

  /** How many more rights the table takes. */
  get room(): number {
    return MAX_RIGHTS - this.live;
  }
}
