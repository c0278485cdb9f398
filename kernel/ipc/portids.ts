// Port ids on one node, reused with a generation (as right names are,
// rights.ts): an id is home * PORTS_PER_NODE + slot * PORT_GENERATIONS +
// generation. A dead port's slot comes back with the next generation, so a
// send right still naming the dead port (in some task's table, on any node)
// never reaches the new one; a slot whose last generation was handed out is
// retired, never reused, so no generation wraps. Only an RPC's reply port
// whose one answer came back gives its very id back: no right to it is left
// anywhere. Ids were a counter that was never reused: 2^24 ipc_port_allocs
// exhausted the node for every user.

/** Generations per slot (generation 0 is never handed out, so an id is never its slot's base). */
export const PORT_GENERATIONS = 2 ** 8;

/** Slots per node: with MAX_NODES (2^22) homes, every id stays a safe integer (2^22 * 2^31 = 2^53). */
export const PORT_SLOTS = 2 ** 23;

/** Ids per node: a port's home is floor(id / PORTS_PER_NODE). */
export const PORTS_PER_NODE = PORT_SLOTS * PORT_GENERATIONS;

export class PortIds {
  /** The generation each slot last handed out. */
  private readonly gens: number[] = [];
  /** Whether each slot names a live port (a second release of one id does nothing). */
  private readonly live: boolean[] = [];
  /** Slots free for reuse, oldest first (a queue: a freed slot waits as long as possible). */
  private readonly free: { slot: number; same: boolean }[] = [];
  private head = 0;
  /** Ids minted (new slots or new generations); an exact reuse mints none. */
  minted = 0;

  constructor(
    private readonly base: number,
    private readonly slots = PORT_SLOTS,
    private readonly generations = PORT_GENERATIONS,
  ) {}

  /** A fresh id, or null when every slot is retired or in use. */
  alloc(): number | null {
    if (this.head < this.free.length) {
      const { slot, same } = this.free[this.head++];
      if (this.head > 1024 && this.head * 2 > this.free.length) {
        this.free.splice(0, this.head);
        this.head = 0;
      }
      if (!same) {
        this.gens[slot]++;
        this.minted++;
      }
      this.live[slot] = true;
      return this.id(slot);
    }
    if (this.gens.length >= this.slots) return null;
    this.gens.push(1);
    this.live.push(true);
    this.minted++;
    return this.id(this.gens.length - 1);
  }

  /**
   * The port with `id` is dead. With `spent` (an RPC's reply port whose one
   * send-once right was used), the same id may name the next port; otherwise
   * its slot comes back with the next generation, or is retired after its last.
   */
  release(id: number, spent = false): void {
    const local = id - this.base;
    const slot = Math.floor(local / this.generations);
    if (!Number.isSafeInteger(local) || slot < 0 || slot >= this.gens.length || !this.live[slot] || this.gens[slot] !== local % this.generations) return;
    this.live[slot] = false;
    if (!spent && this.gens[slot] >= this.generations - 1) return;
    this.free.push({ slot, same: spent });
  }

  private id(slot: number): number {
    return this.base + slot * this.generations + this.gens[slot];
  }
}
