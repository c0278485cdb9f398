// Shared set-up for the kernel DSM tests: a job of N ranks on N nodes, the
// protocol state of every node, and a recorder of every user access to the
// region in the order the simulation performs them.

import type { System } from '../../system/system.ts';
import { ACCESS, type DsmRegion } from '../../kernel/dsm/region.ts';
import type { UserProgram } from '../../kernel/abi.ts';

export function regionsOf(sys: System, nodes: number): (DsmRegion | undefined)[] {
  return Array.from({ length: nodes }, (_, nid) => [...sys.kernel(nid).dsm.regions.values()][0]);
}

/** Pages where the single-writer / multiple-readers rule does not hold right now. */
export function swmrViolations(sys: System, nodes: number): string[] {
  const rs = regionsOf(sys, nodes);
  const first = rs.find((r) => r !== undefined);
  if (first === undefined) return [];
  const bad: string[] = [];
  for (let page = 0; page < first.pages; page++) {
    let writers = 0;
    let readers = 0;
    for (const r of rs) {
      if (r === undefined) continue;
      if (r.access[page] === ACCESS.write) writers++;
      else if (r.access[page] === ACCESS.read) readers++;
    }
    if (writers > 1 || (writers === 1 && readers > 0)) bad.push(`page ${page}: ${writers} writer(s), ${readers} reader(s)`);
  }
  return bad;
}

export interface Access {
  readonly node: number;
  readonly offset: number;
  readonly write: boolean;
  readonly value: bigint;
}

/**
 * Records every 8-byte user load and store on the region's frames, in the
 * order the simulation performs them (DMA, which runs outside any core, is
 * not a user access and is not recorded).
 */
export function recordAccesses(sys: System, nodes: number): Access[] {
  const log: Access[] = [];
  for (let nid = 0; nid < nodes; nid++) {
    const k = sys.kernel(nid);
    const mem = k.node.memory;
    const read = mem.read.bind(mem);
    const write = mem.write.bind(mem);
    const offsetOf = (pa: number, len: number): number => {
      if (k.executing === null || len !== 8) return -1;
      for (const r of k.dsm.regions.values()) if (pa >= r.pa && pa < r.pa + r.bytes) return pa - r.pa;
      return -1;
    };
    mem.read = (pa: number, dst: Uint8Array) => {
      read(pa, dst);
      const off = offsetOf(pa, dst.length);
      if (off >= 0) log.push({ node: nid, offset: off, write: false, value: new DataView(dst.buffer, dst.byteOffset, 8).getBigUint64(0, true) });
    };
    mem.write = (pa: number, src: Uint8Array) => {
      write(pa, src);
      const off = offsetOf(pa, src.length);
      if (off >= 0) log.push({ node: nid, offset: off, write: true, value: new DataView(src.buffer, src.byteOffset, 8).getBigUint64(0, true) });
    };
  }
  return log;
}

/** Reads that did not return the last value written before them in the recorded order. */
export function staleReads(log: readonly Access[]): string[] {
  const shadow = new Map<number, bigint>();
  const bad: string[] = [];
  log.forEach((a, i) => {
    if (a.write) shadow.set(a.offset, a.value);
    else if (a.value !== (shadow.get(a.offset) ?? 0n)) bad.push(`#${i} node ${a.node} read ${a.value} at +${a.offset}, last written ${shadow.get(a.offset) ?? 0n}`);
  });
  return bad;
}

/** Runs `prog` on nodes 0..n-1 until every rank ends, checking `each` before every event. */
export function runJob(sys: System, prog: UserProgram, n: number, each?: () => void, until = 10e12) {
  const job = sys.launchDirect(prog, Array.from({ length: n }, (_, i) => i), []);
  const stop = sys.run({ done: () => (each?.(), sys.jobDone(job)), until });
  return { job, stop };
}
