// View models of the console: plain data computed from the System's
// inspection API, tested without blessed. The console only draws them.

import { vectorName } from '../../kernel/vectors.ts';
import type { Job, System } from '../../system/system.ts';
import type { TracePath } from '../../kernel/step.ts';
import type { TraceRecord } from '../../kernel/trace.ts';
import { formatPs } from '../../hw/time.ts';

export type NodeState = 'idle' | 'kernel' | 'user' | 'interrupt' | 'loading' | 'failed' | 'off';

/** One character and colour per state, shared by the map and its legend. */
export const STATE_STYLE: Readonly<Record<NodeState, { readonly ch: string; readonly colour: string }>> = {
  off: { ch: '.', colour: 'gray' },
  idle: { ch: '_', colour: 'white' },
  kernel: { ch: 'K', colour: 'yellow' },
  user: { ch: 'U', colour: 'green' },
  interrupt: { ch: 'I', colour: 'magenta' },
  loading: { ch: 'L', colour: 'cyan' },
  failed: { ch: 'X', colour: 'red' },
};

/** Which state wins when a map cell holds several nodes (the most alarming). */
const RANK: readonly NodeState[] = ['off', 'idle', 'user', 'kernel', 'loading', 'interrupt', 'failed'];

export function nodeState(sys: System, nid: number): NodeState {
  const a = sys.inspect.activity(nid);
  if (a.down) return 'failed';
  if (!a.booted) return 'off';
  if (a.failedProcess) return 'failed';
  if (a.inInterrupt) return 'interrupt';
  if (a.loading) return 'loading';
  if (a.kernelMode) return 'kernel';
  if (a.userMode) return 'user';
  return 'idle';
}

export interface MeshView {
  /** Rows of cells; each cell covers `perCell` consecutive nodes from `first`. */
  readonly rows: { readonly first: number; readonly state: NodeState; readonly heat: number }[][];
  readonly perCell: number;
  readonly first: number;
  readonly last: number;
  readonly nodes: number;
  readonly counts: Record<NodeState, number>;
}

/**
 * The mesh map: nodes in id order (x fastest), `cols` cells a row. When the
 * machine has more nodes than cells, each cell folds `perCell` nodes and
 * shows the most alarming state among them; `zoom` halves the nodes per
 * cell (up to one) and `offset` pans to the cell holding that node.
 */
export function meshView(sys: System, cols: number, rows: number, zoom = 0, offset = 0): MeshView {
  const nodes = sys.machine.size;
  const cells = Math.max(1, cols * rows);
  const fit = Math.max(1, Math.ceil(nodes / cells));
  const perCell = Math.max(1, Math.ceil(fit / 2 ** zoom));
  const first = Math.max(0, Math.min(offset - (offset % perCell), Math.max(0, nodes - perCell * cells)));
  const counts = { idle: 0, kernel: 0, user: 0, interrupt: 0, loading: 0, failed: 0, off: 0 };
  const heatOf = linkHeat(sys);
  const out: { first: number; state: NodeState; heat: number }[][] = [];
  let last = first;
  for (let r = 0; r < rows; r++) {
    const row: { first: number; state: NodeState; heat: number }[] = [];
    for (let c = 0; c < cols; c++) {
      const start = first + (r * cols + c) * perCell;
      if (start >= nodes) break;
      let state: NodeState = 'off';
      let heat = 0;
      for (let n = start; n < Math.min(nodes, start + perCell); n++) {
        const s = nodeState(sys, n);
        counts[s]++;
        if (RANK.indexOf(s) > RANK.indexOf(state)) state = s;
        heat = Math.max(heat, heatOf(n));
        last = n;
      }
      row.push({ first: start, state, heat });
    }
    if (row.length > 0) out.push(row);
  }
  return { rows: out, perCell, first, last, nodes, counts };
}

/** Heat 0..9 of a node's busiest outgoing link, relative to the busiest link in the machine. */
function linkHeat(sys: System): (nid: number) => number {
  const net = sys.machine.network;
  const per = sys.machine.topology.linksPerNode;
  let max = 0;
  for (let l = 0; l < net.linkBusyPs.length; l++) if (net.linkBusyPs[l] > max) max = net.linkBusyPs[l];
  return (nid) => {
    if (max === 0) return 0;
    let m = 0;
    for (let s = 0; s < per; s++) m = Math.max(m, net.linkBusyPs[nid * per + s]);
    return Math.min(9, Math.ceil((9 * m) / max));
  };
}

export interface NodePaneView {
  readonly title: string;
  readonly lines: string[];
}

/** The selected node and core: modes, registers, current thread, APIC, TLB, Portals. */
export function nodePane(sys: System, nid: number, core: number): NodePaneView {
  if (!sys.inspect.booted(nid)) return { title: `node ${nid}`, lines: [`node ${nid}: kernel not booted (not in a job yet)`] };
  const node = sys.inspect.nodeView(nid);
  const cores = node.cores.map((c) => `${c.core}:${c.mode === 'interrupt' ? 'irq' : c.mode}${c.running ? `(${c.running.pid})` : ''}`).join(' ');
  const v = sys.inspect.cpuView(nid, Math.min(core, node.cores.length - 1));
  const regs = sys.inspect.registers(nid, v.core);
  const r = (name: string) => `${name}=0x${regs[name].toString(16)}`;
  const vec = (v: number) => `${vectorName(v)}`;
  const apic = sys.inspect.apicView(nid, v.core);
  const tlb = sys.inspect.tlbView(nid, v.core);
  const lines = [
    `cores ${cores}`,
    `core ${v.core}: ${v.mode}${v.inInterrupt ? ' (in interrupt)' : ''}${v.current ? `, pid ${v.current.pid} tid ${v.current.tid} ${v.current.program}` : ''}, ${v.runQueue.length} queued`,
    `${r('rip')} ${r('rsp')} ${r('rax')}`,
    `${r('rdi')} ${r('rsi')} ${r('rdx')} ${r('cr3')}`,
    `lapic pending ${apic.irr.map(vec).join(',') || 'none'}, in service ${apic.isr.map(vec).join(',') || 'none'}`,
    `  IPIs sent ${apic.ipisSent} received ${apic.ipisReceived}`,
    `tlb ${tlb.entries.length}/${tlb.capacity}, hit ${(tlb.hitRate * 100).toFixed(1)}% (${tlb.hits}/${tlb.hits + tlb.misses})`,
    ...tlb.entries.slice(0, 3).map((e) => `  asid ${e.asid} va 0x${e.va.toString(16)} -> pa 0x${e.pa.toString(16)} ${e.pageSize >= 2 ** 21 ? '2M' : '4K'}`),
  ];
  for (const p of sys.inspect.portalsView(nid)) {
    lines.push(`pid ${p.pid} ${p.name} rank ${p.rank}: ${p.threads} thread(s)`);
    for (const ni of p.nis) {
      const pts = ni.pts.map((pt) => (pt === null ? '' : `pt${pt.index}:${pt.priority}/${pt.overflow}${pt.enabled ? '' : '(off)'}`)).filter((x) => x);
      const eqs = ni.eqs.map((q) => `${q.events}/${q.size}`);
      lines.push(`  ni${ni.index} ${pts.join(' ')}  eq ${eqs.join(' ')}  md ${ni.mds} ct ${ni.cts}`);
    }
  }
  return { title: `node ${nid} (${sys.machine.topology.coords(nid).join(',')})`, lines };
}

export interface TraceFilter {
  node?: number;
  core?: number;
  path?: TracePath;
  pid?: number;
}

/** The last `n` trace records that pass the filter, as lines; `stopped` marks the record the machine stopped at. */
export function tracePane(records: readonly TraceRecord[], f: TraceFilter, n: number, stopped: TraceRecord | null): { line: string; current: boolean }[] {
  const out: { line: string; current: boolean }[] = [];
  for (let i = records.length - 1; i >= 0 && out.length < n; i--) {
    const r = records[i];
    if (f.node !== undefined && r.node !== f.node) continue;
    if (f.core !== undefined && r.core !== f.core) continue;
    if (f.pid !== undefined && r.pid !== f.pid) continue;
    if (f.path !== undefined && r.path !== f.path) continue;
    out.push({ line: `${formatPs(r.t).padStart(11)} ${r.node}.${r.core} ${r.path}/${r.step} ${r.detail}`, current: r === stopped });
  }
  return out.reverse();
}

export interface JobPaneView {
  readonly lines: string[];
}

/** The current job: phases, ranks by state, and one rank's output. */
export function jobPane(sys: System, job: Job | null, rank: number): JobPaneView {
  if (job === null) return { lines: ['no job: load hello (or run hello)'] };
  const yod = sys.inspect.yod(job);
  const lines = [`job ${job.jobId} ${job.program} (${job.load}), ${job.size} rank(s), yod on node ${job.serviceNid}${yod ? (yod.alive ? ' running' : `, exit ${yod.exitStatus}`) : ''}`];
  if (yod !== null) {
    const y = yod.results;
    const m = sys.mainTimes(job);
    const f = (ps: number) => (ps < 0 ? '-' : formatPs(ps));
    const status: number | undefined = y.yod_status_at_ns;
    const exit: number | undefined = y.yod_exit_at_ns;
    lines.push(`load ${status === undefined ? '-' : f(status * 1000 - job.startedAt)}  start ${status === undefined || m.lastMain < 0 ? '-' : f(m.lastMain - status * 1000)}  run ${m.lastMain < 0 || m.lastMainDone < 0 ? '-' : f(m.lastMainDone - m.lastMain)}  exit ${exit === undefined || m.lastMainDone < 0 ? '-' : f(exit * 1000 - m.lastMainDone)}`);
  }
  const counts = new Map<string, number>();
  let shown: string[] = [];
  const states = sys.inspect.jobRanks(job);
  for (const s of states) {
    const p = s.process;
    const key = p === null ? 'not started' : p.alive ? (p.name === 'init' ? 'loading' : 'running') : p.exitStatus === 0 ? 'exited 0' : `failed`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (s.rank !== rank) continue;
    const output = p === null ? '' : p.stdout + p.stderr;
    const what = p === null ? `not started${s.error ? ` (${s.error})` : ''}` : `${p.name} pid ${p.pid}${p.alive ? '' : ` exit ${p.exitStatus}${p.exitReason ? ` (${p.exitReason})` : ''}`}`;
    shown = [`rank ${rank} on node ${s.node}: ${what}`, ...output.split('\n').filter((l) => l.length > 0).slice(-4).map((l) => `| ${l}`)];
  }
  lines.push(`ranks: ${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push(...shown);
  return { lines };
}
