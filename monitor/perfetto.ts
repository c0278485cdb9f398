// Trace export in the Chrome/Perfetto trace-event JSON format: one process
// per node, one thread per core (and one for the NIC), each kernel step a
// slice inside a slice for its kernel path, and each message a flow arrow
// from the sender's NIC to the receive interrupt it raised. Open the file in
// ui.perfetto.dev or chrome://tracing.

import type { MessageRecord } from '../system/system.ts';
import type { TraceRecord } from '../kernel/trace.ts';

export interface TraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'M' | 's' | 'f';
  readonly pid: number;
  readonly tid: number;
  readonly ts?: number;
  readonly dur?: number;
  readonly cat?: string;
  readonly id?: number;
  readonly bp?: 'e';
  readonly args?: Record<string, unknown>;
}

/** ps → µs (the format's unit). */
const us = (ps: number) => ps / 1e6;

/** Thread id of a node's NIC: past any core. */
const NIC_TID = 1000;

export function traceEvents(records: readonly TraceRecord[], messages: readonly MessageRecord[], cores: number): { traceEvents: TraceEvent[]; displayTimeUnit: 'ns' } {
  const ev: TraceEvent[] = [];
  const nodes = new Set<number>();
  for (const r of records) nodes.add(r.node);
  for (const m of messages) nodes.add(m.src).add(m.dst);
  for (const n of [...nodes].sort((a, b) => a - b)) {
    ev.push({ name: 'process_name', ph: 'M', pid: n, tid: 0, args: { name: `node ${n}` } });
    for (let c = 0; c < cores; c++) ev.push({ name: 'thread_name', ph: 'M', pid: n, tid: c, args: { name: `core ${c}` } });
    ev.push({ name: 'thread_name', ph: 'M', pid: n, tid: NIC_TID, args: { name: 'nic' } });
  }
  // Kernel paths: consecutive steps of one path on one core make one enclosing slice.
  const open = new Map<string, { path: string; node: number; core: number; start: number; end: number }>();
  const closePath = (key: string) => {
    const o = open.get(key);
    if (o === undefined) return;
    ev.push({ name: o.path, ph: 'X', cat: 'path', pid: o.node, tid: o.core, ts: us(o.start), dur: us(o.end - o.start) });
    open.delete(key);
  };
  const rxInterrupts = new Map<number, number[]>();
  for (const r of records) {
    const key = `${r.node}.${r.core}`;
    const end = r.t + (r.dur ?? 0);
    const o = open.get(key);
    if (o !== undefined && (o.path !== r.path || r.t > o.end)) closePath(key);
    const cur = open.get(key);
    if (cur === undefined) open.set(key, { path: r.path, node: r.node, core: r.core, start: r.t, end });
    else cur.end = Math.max(cur.end, end);
    ev.push({ name: r.step, ph: 'X', cat: r.path, pid: r.node, tid: r.core, ts: us(r.t), dur: us(r.dur ?? 0), args: { detail: r.detail, pid: r.pid } });
    if (r.path === 'irq' && r.step === 'entry' && r.detail === 'nic-rx') (rxInterrupts.get(r.node) ?? rxInterrupts.set(r.node, []).get(r.node)!).push(r.t);
  }
  for (const key of [...open.keys()]) closePath(key);
  // Messages: a slice on the sender's NIC while it injects, an arrow to the receive interrupt.
  messages.forEach((m, i) => {
    const id = i + 1;
    const txDur = Math.max(1, m.arrivedAt - m.sentAt);
    ev.push({ name: `tx ${m.bytes} B to node ${m.dst}`, ph: 'X', cat: 'net', pid: m.src, tid: NIC_TID, ts: us(m.sentAt), dur: us(txDur) });
    ev.push({ name: 'message', ph: 's', cat: 'net', id, pid: m.src, tid: NIC_TID, ts: us(m.sentAt) });
    const irqs = rxInterrupts.get(m.dst) ?? [];
    const at = irqs.find((t) => t >= m.arrivedAt);
    if (at !== undefined) ev.push({ name: 'message', ph: 'f', bp: 'e', cat: 'net', id, pid: m.dst, tid: 0, ts: us(at) });
    else {
      ev.push({ name: `rx ${m.bytes} B from node ${m.src}`, ph: 'X', cat: 'net', pid: m.dst, tid: NIC_TID, ts: us(m.arrivedAt), dur: 0.001 });
      ev.push({ name: 'message', ph: 'f', bp: 'e', cat: 'net', id, pid: m.dst, tid: NIC_TID, ts: us(m.arrivedAt) });
    }
  });
  return { traceEvents: ev, displayTimeUnit: 'ns' };
}
