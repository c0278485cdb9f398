// Kernel staging for transfers that are not physically contiguous: a
// source gathered into a staging slot before the NIC reads it, a deposit
// scattered from one after the NIC wrote it.

import type { PortalsDriver } from './driver.ts';
import { type Piece, gather, scatter, slice } from './iov.ts';

/** `f` made safe to call more than once (it runs the first time only). */
export function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    f();
  };
}

/**
 * A physical source for sending [off, off+len) of `pieces`: direct when
 * contiguous, else gathered into a staging slot (`slot`, -1 for none, to
 * release once the NIC has read it). Null when staging is full.
 */
export function txSource(drv: PortalsDriver, pieces: readonly Piece[], off: number, len: number): { pa: number; slot: number } | null {
  if (len === 0) return { pa: 0, slot: -1 };
  const part = slice(pieces, off, len);
  if (part.length === 1) return { pa: part[0].pa, slot: -1 };
  const at = drv.staging.take(len);
  if (at < 0) return null;
  drv.k.node.memory.write(at, gather(drv.k.node.memory, part));
  return { pa: at, slot: at };
}

/**
 * Where to deposit [off, off+len) of `pieces`, what to do once the DMA is
 * done, and the staging slot used (-1 for none). Null when staging is full.
 */
export function rxTarget(drv: PortalsDriver, pieces: readonly Piece[], off: number, len: number): { pa: number; after: (() => void) | null; slot: number } | null {
  const part = slice(pieces, off, len);
  if (part.length <= 1) return { pa: part[0]?.pa ?? 0, after: null, slot: -1 };
  const at = drv.staging.take(len);
  if (at < 0) return null;
  const mem = drv.k.node.memory;
  return {
    pa: at,
    slot: at,
    after: () => {
      const data = new Uint8Array(len);
      mem.read(at, data);
      scatter(mem, part, data);
    },
  };
}

/** Gives a staging slot back (-1: none was taken). */
export function unstage(drv: PortalsDriver, slot: number): void {
  if (slot >= 0) drv.staging.release(slot);
}
