// Address-space ids. The TLB is tagged by asid and not flushed on a context
// switch, so two live address spaces must never share one: the second
// would hit the first's entries and reach its frames. An asid is held from
// the spawn that creates its address space until that space is torn down
// (after its memory is freed, DMA included), and only then handed out again.
//
// Ids are handed out round-robin from a cursor, skipping held ones, so a
// freed id rests as long as possible and a node that never has 4095 spaces
// at once numbers them exactly as a plain counter would. When all 4095 are
// held, allocation fails (spawn returns -EAGAIN) rather than falling back to
// untagged spaces flushed on every switch: a lightweight kernel runs a
// handful of processes per node, 4095 live ones means something is leaking,
// and a loud refusal is better than silently slower context switches.

/** Asids 1..ASID_COUNT are handed out; 0 is the kernel's (no process). */
export const ASID_COUNT = 4095;

export class AsidPool {
  private readonly held = new Set<number>();
  private cursor = 1;

  /** A free asid, now held; null if every one is held. */
  alloc(): number | null {
    if (this.held.size >= ASID_COUNT) return null;
    for (;;) {
      const asid = this.cursor;
      this.cursor = (this.cursor % ASID_COUNT) + 1;
      if (!this.held.has(asid)) {
        this.held.add(asid);
        return asid;
      }
    }
  }

  /** The address space holding `asid` was torn down. */
  free(asid: number): void {
    this.held.delete(asid);
  }

  isHeld(asid: number): boolean {
    return this.held.has(asid);
  }

  get inUse(): number {
    return this.held.size;
  }
}
