// The kernel's dispatch tables (syscalls by number, interrupt handlers by
// vector) are built by registration at boot, as Kitten's syscall_register and
// request_irq build theirs. Every kernel of a machine registers the same
// handlers in the same order, so the tables are shared instead of built per
// node: registering a handler on a table gives the one table that holds the
// same registrations, made once per host process. A kernel that registers
// something different (a driver replacing a syscall) gets a table of its own.

export class SharedTable<V> {
  /** The tables one registration further on, by key and by what was registered. */
  private readonly after = new Map<number, Map<unknown, SharedTable<V>>>();

  private constructor(private readonly entries: ReadonlyMap<number, V>) {}

  /** An empty table: the root of one kind of table. */
  static root<V>(): SharedTable<V> {
    return new SharedTable<V>(new Map());
  }

  get(key: number): V | undefined {
    return this.entries.get(key);
  }

  keys(): number[] {
    return [...this.entries.keys()].sort((a, b) => a - b);
  }

  /** This table with `key` set to `make()`; `registered` (the handler) identifies the registration. */
  with(key: number, registered: unknown, make: () => V): SharedTable<V> {
    let byValue = this.after.get(key);
    if (byValue === undefined) {
      byValue = new Map();
      this.after.set(key, byValue);
    }
    let t = byValue.get(registered);
    if (t === undefined) {
      t = new SharedTable(new Map(this.entries).set(key, make()));
      byValue.set(registered, t);
    }
    return t;
  }
}
