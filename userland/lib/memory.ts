// User memory from the user side: typed loads and stores through the TLB
// (retrying after the process's fault handler when one is installed), C
// strings, and a heap allocator on brk.

import { SYS } from './abi.gen.ts';
import { type FaultUpcall, type U, isFault, rawLoad, rawStore } from './ops.ts';
import type { Env } from './runtime.ts';
import { syscallN } from './syscall.ts';
import type { UserCpu } from './ops.ts';

/** Runs on the faulting thread; `env` is that thread's (use it, not the env that installed the handler). */
export type FaultHandler = (address: number, write: boolean, env: Env) => U;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What the threads of one process share on the user side: the heap and the fault handler. */
export class ProcessShared {
  heapTop = 0;
  heapEnd = 0;
  faultHandler: FaultHandler | null = null;
  /** Runs when a message upcall diverts a computation (env.onMessage). */
  messageHandler: MessageHandler | null = null;
}

/** Runs on the thread whose computation a message upcall interrupted, with that thread's env and the endpoint's handle. */
export type MessageHandler = (endpoint: number, env: Env) => U;

/** One thread's view of its process's memory. */
export class Memory {
  /** The env of the thread this view belongs to (set by the runtime; handed to fault handlers). */
  env: Env | null = null;

  constructor(
    private readonly cpu: UserCpu,
    readonly shared: ProcessShared,
  ) {}

  private *handle(f: FaultUpcall): U {
    const h = this.shared.faultHandler;
    if (h === null) throw new Error(`fault upcall at 0x${f.address.toString(16)} with no handler`);
    yield* h(f.address, f.write, this.env as Env);
  }

  /** Reads `len` bytes at `va`. */
  *load(va: number, len: number): U<Uint8Array> {
    checkRange('load', va, len);
    for (;;) {
      const r = yield* rawLoad(va, len);
      if (!isFault(r)) return r;
      yield* this.handle(r);
    }
  }

  /** Writes `bytes` at `va`. */
  *store(va: number, bytes: Uint8Array): U {
    checkRange('store', va, bytes.length);
    for (;;) {
      const f = yield* rawStore(va, bytes);
      if (f === undefined) return;
      yield* this.handle(f);
    }
  }

  *loadU32(va: number): U<number> {
    const b = yield* this.load(va, 4);
    return new DataView(b.buffer).getUint32(0, true);
  }

  *storeU32(va: number, v: number): U {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    yield* this.store(va, b);
  }

  *loadU64(va: number): U<bigint> {
    const b = yield* this.load(va, 8);
    return new DataView(b.buffer).getBigUint64(0, true);
  }

  *storeU64(va: number, v: bigint | number): U {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(v)), true);
    yield* this.store(va, b);
  }

  *loadF64(va: number): U<number> {
    const b = yield* this.load(va, 8);
    return new DataView(b.buffer).getFloat64(0, true);
  }

  *storeF64(va: number, v: number): U {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    yield* this.store(va, b);
  }

  /** Reads a NUL-terminated string (at most `max` bytes). */
  *cstring(va: number, max = 4096): U<string> {
    const parts: Uint8Array[] = [];
    // Read in chunks that never cross a page boundary, so a string at the end of a mapping is fine.
    for (let off = 0; off < max; ) {
      const at = va + off;
      const n = Math.min(64, max - off, 4096 - (at % 4096));
      const b = yield* this.load(at, n);
      off += n;
      const z = b.indexOf(0);
      if (z >= 0) {
        parts.push(b.subarray(0, z));
        break;
      }
      parts.push(b);
    }
    return dec.decode(concat(parts));
  }

  /** Copies a string (NUL-terminated) into fresh heap memory; returns its address and length. */
  *string(s: string): U<{ va: number; len: number }> {
    const bytes = enc.encode(s);
    const va = yield* this.alloc(bytes.length + 1);
    const withNul = new Uint8Array(bytes.length + 1);
    withNul.set(bytes);
    yield* this.store(va, withNul);
    return { va, len: bytes.length };
  }

  /**
   * Gives back the block `alloc(n)` returned at `va` when it is still the
   * heap's last one (a library call's scratch: its arguments, a timespec, a
   * string to print). Without this every nanosleep and print moved the heap,
   * so two ranks that retried a different number of times laid out their
   * later buffers at different addresses, and SPMD code that names the
   * peer's buffer by its own address missed it.
   */
  release(va: number, n: number): void {
    const h = this.shared;
    if (h.heapTop === va + Math.max(1, n)) h.heapTop = va;
  }

  /** Allocates `n` bytes (16-byte aligned) from the heap, moving the break with brk. */
  *alloc(n: number): U<number> {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`mem.alloc: ${n} is not a size (a whole number of bytes, 0 or more)`);
    const h = this.shared;
    if (h.heapTop === 0) {
      h.heapTop = yield* syscallN(this.cpu, SYS.brk, 0);
      h.heapEnd = h.heapTop;
    }
    const va = Math.ceil(h.heapTop / 16) * 16;
    const end = va + Math.max(1, n);
    if (end > h.heapEnd) {
      const want = Math.ceil(end / 65536) * 65536;
      const got = yield* syscallN(this.cpu, SYS.brk, want);
      if (got < end) throw new Error(`out of heap: brk stopped at 0x${got.toString(16)}`);
      h.heapEnd = got;
    }
    h.heapTop = end;
    return va;
  }
}

/**
 * A user address is a whole number from 0 up: a negative or fractional one
 * is a bug in the program, refused here with the value as given (it has no
 * meaningful hex form). Addresses the MMU refuses still fault as they should.
 */
function checkRange(what: 'load' | 'store', va: number, len: number): void {
  if (!Number.isSafeInteger(va) || va < 0) throw new RangeError(`mem.${what} at ${va}: not an address (a whole number, 0 or more)`);
  if (!Number.isSafeInteger(len) || len < 0) throw new RangeError(`mem.${what} at 0x${va.toString(16)}: ${len} is not a length`);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
