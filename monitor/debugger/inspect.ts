// Looking at and changing the machine as a debugger does: the current CPU,
// info (registers, cpu, tlb, lapic, pic, ipi, mem, ...) in readable form,
// x/NFU and xp/NFU, the page walk, and set for registers and memory. Each
// command also leaves its answer as data for --json.

import { match } from 'ts-pattern';
import { REGISTERS, type Register } from '../../hw/core.ts';
import { formatPs as formatTime } from '../../hw/time.ts';
import { TLB_EXEC, TLB_USER, TLB_WRITABLE } from '../../hw/tlb.ts';
import { VECTORS, vectorName } from '../../kernel/vectors.ts';
import { UsageError } from '../args.ts';
import type { MonitorCommand, MonitorSession } from '../session.ts';
import { buildReport, summaryLines } from '../report.ts';
import type { DsmRegionView } from '../../kernel/dsm/inspect.ts';
import { ipcLines } from './ipc.ts';
import { rtaskLines } from './rtask.ts';
import type { ProcessRef } from '../../system/inspect.ts';
import type { StopReason } from '../../system/system.ts';
import { describeBreak } from './breaks.ts';
import { UNET_INFO } from './unet.ts';
import { dumpBytes, formatDump, hexDump, MAX_DUMP, pageWalk, parseFmt, rangeLines, walkLines } from './memory.ts';
import { count, hex, int, nodeCore, value64 } from './words.ts';

/** The process x, page, watch and set act on: the chosen one, else the one on the current core, else the one last stopped at. */
export function currentProcess(s: MonitorSession): ProcessRef {
  const view = s.system.inspect;
  const { node, core } = s.cur;
  if (s.curPid !== null) return view.liveProcess(node, s.curPid);
  const running = view.runningProcess(node, core);
  if (running !== undefined) return running;
  const live = view.liveProcesses(node);
  const last = s.system.trace.last(1)[0];
  const stopped = last !== undefined && last.node === node && last.pid ? live.find((p) => p.pid === last.pid) : undefined;
  if (stopped !== undefined) return stopped;
  if (live.length === 1) return live[0];
  throw new UsageError(`no current process on node ${node}: ${live.length === 0 ? 'none is alive there' : `choose one with cpu ${node}.${core} pid P (pids ${live.map((p) => p.pid).join(', ')})`}`);
}

/** Every core's local APIC of a node. */
function apics(s: MonitorSession, node: number) {
  return Array.from({ length: s.system.inspect.coreCount(node) }, (_, index) => ({ index, apic: s.system.inspect.apicView(node, index) }));
}

/** NODE.CORE given, or the current CPU. */
function coreArg(s: MonitorSession, text: string | undefined): { node: number; core: number } {
  if (text === undefined) return s.checkCore(s.cur.node, s.cur.core);
  const { node, core } = nodeCore(text);
  return s.checkCore(node, core);
}

function nodeArg(s: MonitorSession, text: string | undefined): number {
  return text === undefined ? s.cur.node : s.checkNode(int(text, 'node'));
}

function regLines(regs: Record<string, bigint>): string[] {
  const e = Object.entries(regs);
  const out: string[] = [];
  for (let i = 0; i < e.length; i += 4) out.push('  ' + e.slice(i, i + 4).map(([r, v]) => `${r.padStart(6)}=${v.toString(16).padStart(16, '0')}`).join(' '));
  return out;
}

const vec = (v: number) => `${vectorName(v)} (${hex(v)})`;

function cpuLine(s: MonitorSession): string {
  const { node, core } = s.cur;
  const v = s.system.inspect.cpuView(node, core);
  const what = v.inInterrupt ? 'in an interrupt' : v.halted ? 'halted' : v.mode;
  return `current cpu ${node}.${core}: ${what}${v.current ? `, running pid ${v.current.pid} tid ${v.current.tid} (${v.current.program})` : ''}${s.curPid !== null ? `; current process pid ${s.curPid}` : ''}`;
}

function tlbFlags(f: number): string {
  return `${f & TLB_USER ? 'U' : 'S'}${f & TLB_WRITABLE ? 'W' : 'R'}${f & TLB_EXEC ? 'X' : '-'}`;
}

/** The views as the monitor prints them. */
function dsmLines(views: readonly DsmRegionView[], detail: boolean): string[] {
  if (views.length === 0) return ['no DSM region on the booted nodes'];
  const lines: string[] = [];
  for (const v of views) {
    const [uid, nid0, pid0] = v.key.split(':');
    lines.push(`region of the job of node ${nid0} pid ${pid0} (uid ${uid}): ${v.ranks} rank(s), ${v.pages} page(s) at 0x${v.base.toString(16)}`);
    if (v.pageViews.length === 0) lines.push('  no such page');
    else if (!detail) lines.push('  page  rank:access (n none, r read, w write; ? a request is out)  (the manager\'s record)');
    for (const p of v.pageViews) {
      const mgr = `manager rank ${p.manager}: owner ${p.owner < 0 ? 'none (zero page)' : `rank ${p.owner}`}, copies ${p.copies.length ? p.copies.join(',') : 'none'}${p.busy ? `, busy (${p.busy})` : ''}${p.queued ? `, ${p.queued} queued` : ''}${p.lostWith >= 0 ? `, LOST with node ${p.lostWith}` : ''}`;
      if (!detail) {
        lines.push(`  page ${String(p.page).padStart(4)}  ${p.ranks.map((r) => `${r.rank}:${r.access[0]}${r.pending !== 'none' ? '?' : ''}`).join(' ')}  (${mgr})`);
        continue;
      }
      lines.push(`  page ${p.page} at 0x${(v.base + p.page * 4096).toString(16)}, ${mgr}`);
      for (const r of p.ranks) lines.push(`    rank ${r.rank} node ${r.node}: ${r.access}${r.pending !== 'none' ? `, asked for ${r.pending}` : ''}${r.waiting ? `, ${r.waiting} thread(s) waiting` : ''}`);
    }
  }
  return lines;
}

const INFO: Record<string, { usage: string; run(s: MonitorSession, args: string[]): string[] }> = {
  nodes: {
    usage: 'nodes',
    run(s) {
      const sys = s.system;
      const v = sys.inspect.nodesView();
      s.data = v;
      if (v.length === 0) return [`no kernel has booted on the ${sys.machine.size} nodes`];
      return v.map((n) => `node ${String(n.node).padStart(5)} (${n.coords.join(',')})${n.down ? ' DOWN' : ''}  cores ${n.cores.join(' ')}  pids ${n.processes.join(',') || '-'}  syscalls ${n.syscalls}`);
    },
  },
  node: {
    usage: 'node [N]',
    run(s, args) {
      const sys = s.system;
      const nid = nodeArg(s, args[0]);
      const v = sys.inspect.nodeView(nid);
      const { nic, jobctl, memory } = v;
      return [
        `node ${nid} (${v.coords.join(',')}): ${v.cores.length} cores, ${v.liveProcesses} live process(es)`,
        ...v.cores.map((c) => `  core ${c.core}: ${c.mode}${c.running ? `, running pid ${c.running.pid} tid ${c.running.tid}` : ''}, ${c.queued} queued`),
        `  nic: tx ${nic.txMessages} msgs ${nic.txBytes} B, rx ${nic.rxMessages} msgs ${nic.rxBytes} B, undeliverable ${nic.undeliverable}`,
        `  jobctl: sent ${jobctl.sent}, received ${jobctl.received}, loads ${jobctl.loads}, nacks ${jobctl.nacks}`,
        `  memory: ${(memory.allocatedBytes / 2 ** 20).toFixed(1)} MiB allocated of ${(memory.sizeBytes / 2 ** 20).toFixed(0)} MiB, ${memory.touchedFrames} frames touched`,
      ];
    },
  },
  cpu: {
    usage: 'cpu [N.C]',
    run(s, args) {
      const { node, core } = coreArg(s, args[0]);
      const v = s.system.inspect.cpuView(node, core);
      s.data = v;
      return [
        `  cpu ${node}.${core}: ${v.inInterrupt ? 'in an interrupt' : v.mode}${v.halted ? ', halted' : ''}${v.spinning ? ', spinning' : ''}, interrupts ${v.interrupts ? 'enabled' : 'disabled'}, asid ${v.asid}`,
        `  running ${v.current ? `pid ${v.current.pid} tid ${v.current.tid} (${v.current.program})` : 'nothing'}; run queue ${v.runQueue.length ? v.runQueue.map((t) => `tid ${t}`).join(', ') : 'empty'}`,
        `  busy until ${formatTime(v.busyUntil)}; ${v.steps} kernel steps, ${v.interruptsTaken} interrupts taken`,
        `  time: user ${formatTime(v.timeInMode.user)}, kernel ${formatTime(v.timeInMode.kernel)}, idle ${formatTime(v.timeInMode.idle)}`,
      ];
    },
  },
  registers: {
    usage: 'registers [N.C|N]',
    run(s, args) {
      const sys = s.system;
      if (args[0] !== undefined && /^\d+$/.test(args[0])) {
        const node = s.checkNode(int(args[0], 'node'));
        const all = Array.from({ length: sys.inspect.coreCount(node) }, (_, core) => ({ core, regs: sys.inspect.registers(node, core) }));
        s.data = all.map((x) => ({ node, core: x.core, registers: Object.fromEntries(Object.entries(x.regs).map(([k, v]) => [k, hex(v)])) }));
        return all.flatMap((x) => [`cpu ${node}.${x.core}:`, ...regLines(x.regs)]);
      }
      const { node, core } = coreArg(s, args[0]);
      const regs = sys.inspect.registers(node, core);
      s.data = { node, core, registers: Object.fromEntries(Object.entries(regs).map(([k, v]) => [k, hex(v)])) };
      return regLines(regs);
    },
  },
  tlb: {
    usage: 'tlb [N.C]',
    run(s, args) {
      const { node, core } = coreArg(s, args[0]);
      const t = s.system.inspect.tlbView(node, core);
      s.data = t;
      const shown = t.entries.slice(0, 64);
      return [
        `  ${t.entries.length}/${t.capacity} entries, hits ${t.hits}, misses ${t.misses}, hit rate ${(t.hitRate * 100).toFixed(1)}%, flushes ${t.flushes}, invalidations ${t.invalidations}`,
        ...(shown.length ? ['  slot  asid  virtual            physical           page  rights'] : []),
        ...shown.map((e) => `  ${String(e.index).padStart(4)}  ${String(e.asid).padStart(4)}  ${hex(e.va).padEnd(18)} ${hex(e.pa).padEnd(18)} ${e.pageSize === 4096 ? '4K' : '2M'}    ${tlbFlags(e.flags)}`),
        ...(t.entries.length > shown.length ? [`  ... ${t.entries.length - shown.length} more (--json shows all)`] : []),
      ];
    },
  },
  lapic: {
    usage: 'lapic [N.C]',
    run(s, args) {
      const { node, core } = coreArg(s, args[0]);
      const a = s.system.inspect.apicView(node, core);
      const accepted = a.accepted.map((n, v) => [v, n] as const).filter(([, n]) => n > 0);
      s.data = { ...a, accepted: Object.fromEntries(accepted.map(([v, n]) => [vectorName(v), n])) };
      const t = a.timer;
      return [
        `  local APIC of cpu ${node}.${core}: tpr ${hex(a.tpr)}${a.nmiPending ? ', NMI pending' : ''}`,
        `  pending (irr): ${a.irr.length ? a.irr.map(vec).join(', ') : 'none'}`,
        `  in service (isr): ${a.isr.length ? a.isr.map(vec).join(', ') : 'none'}`,
        `  timer: ${t.armed ? `${t.mode}, ${vec(t.vector)}, count ${t.initialCount}, fires at ${formatTime(t.expiresAt)}` : 'not armed'}`,
        `  IPIs: sent ${a.ipisSent}, received ${a.ipisReceived}`,
        `  accepted: ${accepted.length ? accepted.map(([v, n]) => `${vectorName(v)} ${n}`).join(', ') : 'none yet'}`,
      ];
    },
  },
  pic: {
    usage: 'pic [N]',
    run(s, args) {
      const node = nodeArg(s, args[0]);
      const cpus = apics(s, node);
      const rows = VECTORS.map((v) => ({
        vector: v.vector,
        name: v.name,
        doc: v.doc,
        pending: cpus.filter((c) => c.apic.irr.includes(v.vector)).map((c) => c.index),
        inService: cpus.filter((c) => c.apic.isr.includes(v.vector)).map((c) => c.index),
        accepted: cpus.map((c) => c.apic.accepted[v.vector]),
      }));
      s.data = { node, vectors: rows };
      return [
        `  interrupt vectors of node ${node} (accepted per core ${cpus.map((c) => c.index).join('/')}):`,
        ...rows.map((r) => `  ${hex(r.vector).padStart(5)} ${r.name.padEnd(15)} accepted ${r.accepted.join('/').padEnd(12)}${r.pending.length ? ` pending on ${r.pending.join(',')}` : ''}${r.inService.length ? ` in service on ${r.inService.join(',')}` : ''}  ${r.doc}`),
      ];
    },
  },
  ipi: {
    usage: 'ipi [N]',
    run(s, args) {
      const node = nodeArg(s, args[0]);
      const cpus = apics(s, node);
      const ipiVectors = VECTORS.filter((v) => v.name === 'xcall' || v.name === 'reschedule').map((v) => v.vector);
      const per = cpus.map((c) => {
        const a = c.apic;
        return { core: c.index, sent: a.ipisSent, received: a.ipisReceived, pending: ipiVectors.filter((v) => a.irr.includes(v)).map(vectorName) };
      });
      const inFlight = per.reduce((n, c) => n + c.sent - c.received, 0);
      s.data = { node, cores: per, inFlight };
      return [
        `  IPIs on node ${node}: ${inFlight} in flight (sent, not yet arrived)`,
        ...per.map((c) => `  core ${c.core}: sent ${c.sent}, received ${c.received}, pending ${c.pending.length ? c.pending.join(', ') : 'none'}`),
      ];
    },
  },
  ps: {
    usage: 'ps [N]',
    run(s, args) {
      const sys = s.system;
      const nid = args[0] === undefined ? undefined : s.checkNode(int(args[0], 'node'));
      const ps = sys.inspect.processes(nid);
      s.data = ps.map(({ regions: _r, ...p }) => p);
      if (ps.length === 0) return ['no processes'];
      return ps.slice(0, 200).map((p) => `node ${p.node} pid ${p.pid} ${p.name} rank ${p.rank} ${p.alive ? 'alive' : `exited ${p.exitStatus}${p.exitReason ? ` (${p.exitReason})` : ''}`}  threads ${p.threads.map((t) => `${t.tid}@${t.core}:${t.state}`).join(' ')}`);
    },
  },
  mem: {
    usage: 'mem [N[/PID]]',
    run(s, args) {
      const sys = s.system;
      const m = /^(\d+)(?:\/(\d+))?$/.exec(args[0] ?? '');
      if (args[0] !== undefined && m === null) throw new UsageError('info mem [NODE[/PID]]');
      const node = m === null ? s.cur.node : s.checkNode(Number(m[1]));
      const ps = sys.inspect.processes(node).filter((p) => p.alive && (m?.[2] === undefined || p.pid === Number(m[2])));
      s.data = ps.map((p) => ({ node, pid: p.pid, name: p.name, regions: p.regions }));
      if (ps.length === 0) return [`no live process${m?.[2] ? ` ${m[2]}` : ''} on node ${node}`];
      return ps.flatMap((p) => [`node ${node} pid ${p.pid} ${p.name}: virtual range, size, rights, kind, physical`, ...rangeLines(p.regions)]);
    },
  },
  job: {
    usage: 'job',
    run: (s) => jobLines(s),
  },
  unet: UNET_INFO,
  break: {
    usage: 'break',
    run(s) {
      const b = s.system.breakpoints;
      const all = [...b.all, ...b.watchpoints].sort((x, y) => x.id - y.id);
      s.data = all.map((x) => ({ ...x, re: undefined, last: undefined }));
      return all.length === 0 ? ['no breakpoints or watchpoints'] : all.map(describeBreak);
    },
  },
  // DSM hook: every node's state of the kernel DSM's pages (system/inspect.ts dsmView).
  dsm: {
    usage: 'dsm [PAGE]',
    run(s, args) {
      const page = args[0] === undefined ? undefined : int(args[0], 'PAGE');
      const views = s.system.inspect.dsmView(page);
      s.data = views;
      return dsmLines(views, page !== undefined);
    },
  },
  // Distributed IPC: each node's transport counters and ports (system/inspect.ts ipcView).
  ipc: {
    usage: 'ipc [NODE]',
    run(s, args) {
      const views = s.system.inspect.ipcView(args[0] === undefined ? undefined : s.checkNode(int(args[0], 'NODE')));
      s.data = views;
      return ipcLines(views);
    },
  },
  // Remote tasking: each node's source jobs and tasks with their VM objects (system/inspect.ts rtaskView).
  rtask: {
    usage: 'rtask [NODE]',
    run(s, args) {
      const views = s.system.inspect.rtaskView(args[0] === undefined ? undefined : s.checkNode(int(args[0], 'NODE')));
      s.data = views;
      return rtaskLines(views);
    },
  },
};
const INFO_ALIASES: Record<string, string> = { regs: 'registers', apic: 'lapic', ipis: 'ipi', breakpoints: 'break', watch: 'break' };

/** The info job line: the report, with why the machine stopped as the monitor knows it. */
function jobLines(s: MonitorSession): string[] {
  const sys = s.system;
  if (s.job === null) return ['no job'];
  const stop = s.lastStop;
  const sysStop: StopReason = match(stop)
    .with(null, { kind: 'user' }, { kind: 'goto' }, (): StopReason => ({ kind: 'idle' }))
    .otherwise((st) => st);
  const report = buildReport(sys, s.job, sysStop, s.fanout, 0);
  s.data = report;
  const lines = summaryLines(report).slice(0, -1);
  const why = match(stop)
    .with(null, () => 'loaded; the machine has not run since')
    .with({ kind: 'user' }, () => `stopped by the user at ${formatTime(sys.now)}`)
    .with({ kind: 'goto' }, () => `at ${formatTime(sys.now)} (event ${s.events})`)
    .otherwise(() => null);
  if (why !== null) lines[0] = lines[0].replace(/INCOMPLETE \(.*\)$/, `INCOMPLETE (${why})`);
  return lines;
}

/** Reads `len` bytes at a virtual address of the current process, or physical on the current node. */
function readMem(s: MonitorSession, physical: boolean, addr: number, len: number): Uint8Array {
  const sys = s.system;
  if (physical) {
    const size = sys.machine.node(s.cur.node).memory.size;
    if (addr + len > size) throw new UsageError(`physical ${hex(addr)}+${len} is outside node ${s.cur.node}'s memory (0..${hex(size)})`);
    return sys.inspect.physical(s.cur.node, addr, len);
  }
  const p = currentProcess(s);
  try {
    return sys.inspect.virtual(s.cur.node, p.pid, addr, len);
  } catch (e) {
    throw new UsageError(`${(e as Error).message} in pid ${p.pid} (${p.name}) on node ${s.cur.node}`);
  }
}

function dump(s: MonitorSession, physical: boolean, args: string[]): string[] {
  const fmt = parseFmt(args[0]?.startsWith('/') ? args.shift()! : '');
  if (args.length !== 1) throw new UsageError(`${physical ? 'xp' : 'x'}/NFU ADDR (e.g. ${physical ? 'xp/8xg 0x1000' : 'x/4xw 0x400000'})`);
  const addr = int(args[0], 'ADDR');
  const n = dumpBytes(fmt);
  let bytes: Uint8Array;
  if (fmt.format === 's') {
    // A string may stop short of the page end: read what is readable.
    let len = n;
    for (;;) {
      try {
        bytes = readMem(s, physical, addr, len);
        break;
      } catch (e) {
        if (len <= 1) throw e;
        len = Math.max(1, Math.floor(len / 2));
      }
    }
  } else bytes = readMem(s, physical, addr, n);
  s.data = { address: hex(addr), physical, count: fmt.count, format: fmt.format, unit: fmt.unit, bytes: [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('') };
  return formatDump(addr, bytes, fmt);
}

export const INSPECT_COMMANDS: Readonly<Record<string, MonitorCommand>> = {
  cpu: {
    usage: 'cpu [N.C [pid P]]',
    help: 'show or choose the current CPU (and process): info registers, x, page, watch and set use it',
    example: 'cpu 2.1',
    run(s, args) {
      if (args[0] !== undefined) {
        const { node, core } = nodeCore(args[0]);
        s.checkCore(node, core);
        let pid: number | null = null;
        if (args[1] === 'pid') {
          pid = int(args[2], 'pid');
          s.system.inspect.liveProcess(node, pid);
        } else if (args[1] !== undefined) throw new UsageError('cpu N.C [pid P]');
        s.cur = { node, core };
        s.curPid = pid;
      }
      s.data = { node: s.cur.node, core: s.cur.core, pid: s.curPid };
      return [cpuLine(s)];
    },
  },
  info: {
    usage: `info ${Object.values(INFO).map((i) => i.usage.split(' ')[0]).join('|')} [...]`,
    help: 'inspect the machine (a core defaults to the current CPU): nodes, node [N], cpu [N.C], registers [N.C|N] (every core of N), tlb [N.C], lapic [N.C], pic [N] (vector table), ipi [N], ps [N], mem [N[/PID]] (mapped ranges), job, unet [N] (U-Net endpoints, queues, channels), break, dsm [PAGE] (every node\'s state of the kernel DSM\'s pages), ipc [N] (transport counters, ports and their queues), rtask [N] (remote-tasking jobs and tasks, whom each pages from, VM objects)',
    example: 'info registers 0',
    run(s, args) {
      const what = INFO[args[0] ?? ''] ?? INFO[INFO_ALIASES[args[0] ?? ''] ?? ''];
      if (what === undefined) throw new UsageError(`info what? (${Object.values(INFO).map((i) => i.usage).join(', ')})`);
      return what.run(s, args.slice(1));
    },
  },
  x: {
    usage: 'x/NFU ADDR | x NODE[/PID] ADDR [LEN]',
    help: `examine virtual memory of the current process: N items of format F (x d u c s i) and unit U (b h w g), as in QEMU and gdb; or the classic hex dump of physical memory of NODE or virtual of PID (at most ${MAX_DUMP} bytes)`,
    example: 'x/4xg 0x400000',
    run(s, args) {
      if (args.length >= 2 && /^\d+(\/\d+)?$/.test(args[0])) {
        const m = /^(\d+)(?:\/(\d+))?$/.exec(args[0])!;
        const node = s.checkNode(Number(m[1]));
        const addr = int(args[1], 'ADDR');
        const len = args[2] === undefined ? 64 : count(args[2], 'LEN', 1, MAX_DUMP);
        const sys = s.system;
        let bytes: Uint8Array;
        if (m[2] === undefined) {
          const size = sys.machine.node(node).memory.size;
          if (addr + len > size) throw new UsageError(`physical ${hex(addr)}+${len} is outside node ${node}'s memory (0..${hex(size)})`);
          bytes = sys.inspect.physical(node, addr, len);
        } else {
          try {
            bytes = sys.inspect.virtual(node, Number(m[2]), addr, len);
          } catch (e) {
            throw new UsageError((e as Error).message);
          }
        }
        s.data = { address: hex(addr), bytes: [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('') };
        return hexDump(addr, bytes);
      }
      return dump(s, false, args);
    },
  },
  xp: {
    usage: 'xp/NFU ADDR',
    help: 'examine physical memory of the current node (formats and units as x)',
    example: 'xp/2xg 0x1000',
    run: (s, args) => dump(s, true, args),
  },
  page: {
    usage: 'page ADDR',
    help: "walk the current process's page tables for ADDR level by level and translate it (Bochs page, QEMU gva2gpa)",
    example: 'page 0x400000',
    run(s, args) {
      const va = int(args[0], 'ADDR');
      const p = currentProcess(s);
      const w = pageWalk(s.system.machine.node(s.cur.node).memory, p.cr3, va);
      s.data = { va: hex(va), pa: w.pa === null ? null : hex(w.pa), pageSize: w.pageSize, why: w.why || undefined, levels: w.steps.map((x) => ({ ...x, entryAddr: hex(x.entryAddr), frame: hex(x.frame) })) };
      return [`pid ${p.pid} (${p.name}) on node ${s.cur.node}, cr3 ${hex(p.cr3)}:`, ...walkLines(va, w)];
    },
  },
  set: {
    usage: 'set REG VALUE | set mem|phys ADDR VALUE [b|h|w|g]',
    help: 'write a register of the current CPU, or VALUE as a unit (default g, 8 bytes) to virtual memory of the current process (mem) or physical memory of the current node (phys)',
    example: 'set rax 0x2a',
    run(s, args) {
      const sys = s.system;
      if ((REGISTERS as readonly string[]).includes(args[0] ?? '')) {
        const v = value64(args[1], args[0]);
        if (args.length !== 2) throw new UsageError('set REG VALUE');
        sys.inspect.setRegister(s.cur.node, s.cur.core, args[0] as Register, v);
        return [`cpu ${s.cur.node}.${s.cur.core} ${args[0]} = ${hex(v)}`];
      }
      if (args[0] === 'mem' || args[0] === 'phys') {
        const addr = int(args[1], 'ADDR');
        const unit = { b: 1, h: 2, w: 4, g: 8 }[args[3] ?? 'g'];
        if (unit === undefined || args.length > 4) throw new UsageError('set mem|phys ADDR VALUE [b|h|w|g]');
        const v = value64(args[2], 'VALUE');
        if (v >= 1n << BigInt(unit * 8)) throw new UsageError(`${args[2]} does not fit in ${unit} byte(s)`);
        const bytes = new Uint8Array(unit);
        for (let i = 0; i < unit; i++) bytes[i] = Number((v >> BigInt(8 * i)) & 0xffn);
        if (args[0] === 'phys') {
          readMem(s, true, addr, unit);
          sys.inspect.writePhysical(s.cur.node, addr, bytes);
          return [`node ${s.cur.node} physical ${hex(addr)} = ${hex(v)} (${unit} B)`];
        }
        const p = currentProcess(s);
        try {
          sys.inspect.writeVirtual(s.cur.node, p.pid, addr, bytes);
        } catch (e) {
          throw new UsageError(`${(e as Error).message} in pid ${p.pid} (${p.name}) on node ${s.cur.node}`);
        }
        return [`pid ${p.pid} ${hex(addr)} = ${hex(v)} (${unit} B)`];
      }
      throw new UsageError(`set what? ${INSPECT_COMMANDS.set.usage} (registers: ${REGISTERS.join(' ')})`);
    },
  },
};
