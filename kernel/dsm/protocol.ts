// The invalidation protocol, served in the receive interrupt. Sequential
// consistency by single writer / multiple readers per page: the page's
// manager (region.ts: fixed by page number) runs one transaction per page at
// a time and queues the rest. A read request is answered by the owner with a
// copy (a writer first loses its write access); a write request first has
// every other copy invalidated, acknowledged to the manager, and only then
// gets the page (from the owner, or as a grant of an upgrade or a zero page).
// The requester installs the page, confirms to the manager (which then serves
// the next request) and wakes the faulting threads.
//
// Page bytes move by DMA from the owner's frame straight into the
// requester's frame. Reducing a node's access (invalidate, downgrade) writes
// the page-table entry and shoots down every core of the node whose TLB may
// hold it (tlbflush.ts). Costs reuse the profile's kernel figures: serving a
// message is a receive-interrupt table lookup (portalsMatchCycles), a
// page-table change costs mapPageCycles.

import type { RxHeader } from '../../hw/nic.ts';
import type { Cpu } from '../cpu.ts';
import { type KPath, step } from '../step.ts';
import { shootdown } from '../tlbflush.ts';
import type { DsmNode } from './node.ts';
import { ACCESS, ACCESS_NAME, type Access, DSM_LOST_STATUS, type DsmRegion, type ManagedPage, PAGE, type Request } from './region.ts';
import { serveSync, syncUnreachable, wakeAll } from './sync.ts';
import type { DsmHeader } from './wire.ts';

/** fetch and lost carry a rank and an access in one word. */
export function pack(rank: number, access: Access): number {
  return rank * 4 + access;
}

function unpack(arg: number): { rank: number; access: Access } {
  return { rank: Math.floor(arg / 4), access: (arg % 4) as Access };
}

function isAccess(a: number): a is Access {
  return a === ACCESS.read || a === ACCESS.write;
}

export function* serveMessage(n: DsmNode, r: DsmRegion, h: DsmHeader, rx: RxHeader, cpu: Cpu): KPath {
  if (h.type !== 'data') n.k.node.nic.discard(rx.rxId);
  switch (h.type) {
    case 'read-req':
    case 'write-req':
      return yield* request(n, r, h, cpu);
    case 'fetch':
      return yield* fetch(n, r, h, cpu);
    case 'invalidate':
      return yield* invalidate(n, r, h, cpu);
    case 'inv-ack':
      return yield* invAck(n, r, h, cpu);
    case 'data':
      return yield* data(n, r, h, rx, cpu);
    case 'grant':
      if (!validPage(r, h.page) || !isAccess(h.arg) || r.pending[h.page] !== h.arg) return yield* drop(n, h);
      return yield* install(n, r, h.page, h.arg, cpu);
    case 'confirm':
      return yield* confirm(n, r, h, cpu);
    case 'fail':
      return yield* fail(n, r, h, cpu);
    case 'lost':
      return yield* lost(n, r, h, cpu);
    case 'lock-req':
    case 'lock-grant':
    case 'unlock':
    case 'arrive':
    case 'go':
    case 'detached':
    case 'release':
      return yield* serveSync(n, r, h, cpu);
    case 'probe':
      // Its arrival is all the prober needs (watch.ts).
      yield step('dsm', 'serve', n.k.profile.values['kernel.portalsMatchCycles'], `probe from rank ${h.src}`);
      return;
    case 'join':
    case 'joined':
    case 'expect':
      // The create rendezvous is served before any region exists (node.ts).
      return yield* drop(n, h);
    default:
      return unreachable(h.type);
  }
}

function validPage(r: DsmRegion, page: number): boolean {
  return Number.isSafeInteger(page) && page >= 0 && page < r.pages;
}

function* drop(n: DsmNode, h: DsmHeader): KPath {
  yield step('dsm', 'drop', n.k.profile.values['kernel.portalsMatchCycles'], `${h.type} page ${h.page} from rank ${h.src}: not expected`);
}

function copies(m: ManagedPage): string {
  return m.copyset.size === 0 ? 'none' : [...m.copyset].sort((a, b) => a - b).join(',');
}

// ---- the manager --------------------------------------------------------------

function* request(n: DsmNode, r: DsmRegion, h: DsmHeader, cpu: Cpu): KPath {
  if (!validPage(r, h.page) || r.managerOf(h.page) !== r.rank) return yield* drop(n, h);
  const m = r.managedPage(h.page);
  const access: Access = h.type === 'read-req' ? ACCESS.read : ACCESS.write;
  r.stats.served++;
  yield step('dsm', 'serve', n.k.profile.values['kernel.portalsMatchCycles'], `manager: ${ACCESS_NAME[access]} page ${h.page} for rank ${h.src} (owner ${m.owner}, copies ${copies(m)}${m.busy ? ', busy: queued' : ''})`);
  m.queue.push({ access, requester: h.src });
  yield* next(n, r, h.page, m, cpu);
}

/** Starts queued transactions while the page is free. */
function* next(n: DsmNode, r: DsmRegion, page: number, m: ManagedPage, cpu: Cpu): KPath {
  while (m.busy === null && m.queue.length > 0) yield* start(n, r, page, m, m.queue.shift()!, cpu);
}

function* start(n: DsmNode, r: DsmRegion, page: number, m: ManagedPage, q: Request, cpu: Cpu): KPath {
  if (m.lostWith >= 0) {
    n.send(r, q.requester, 'fail', page, m.lostWith);
    return;
  }
  if (q.access === ACCESS.read) {
    const needData = m.owner !== -1 && !m.copyset.has(q.requester);
    m.busy = { ...q, acks: 0, needData };
    if (needData) n.send(r, m.owner, 'fetch', page, pack(q.requester, ACCESS.read));
    else n.send(r, q.requester, 'grant', page, ACCESS.read);
    return;
  }
  const needData = m.owner !== -1 && !m.copyset.has(q.requester);
  const stale = [...m.copyset].filter((x) => x !== q.requester && !(needData && x === m.owner)).sort((a, b) => a - b);
  m.busy = { ...q, acks: stale.length, needData };
  for (const x of stale) n.send(r, x, 'invalidate', page, 0);
  if (stale.length > 0) yield step('dsm', 'request', n.k.profile.values['kernel.portalsSetupCycles'] * stale.length, `manager: invalidate page ${page} at rank(s) ${stale.join(',')}`);
  else yield* writeReady(n, r, page, m, cpu);
}

/** Every other copy is gone: the writer gets the page. */
function* writeReady(n: DsmNode, r: DsmRegion, page: number, m: ManagedPage, _cpu: Cpu): KPath {
  const b = m.busy!;
  if (b.needData) n.send(r, m.owner, 'fetch', page, pack(b.requester, ACCESS.write));
  else n.send(r, b.requester, 'grant', page, ACCESS.write);
  yield step('dsm', 'request', n.k.profile.values['kernel.portalsSetupCycles'], b.needData ? `manager: page ${page} from owner rank ${m.owner} to rank ${b.requester}` : `manager: grant write on page ${page} to rank ${b.requester}`);
}

function* invAck(n: DsmNode, r: DsmRegion, h: DsmHeader, cpu: Cpu): KPath {
  const m = r.managed.get(h.page);
  if (m === undefined || m.busy === null || m.busy.access !== ACCESS.write || !m.copyset.has(h.src)) return yield* drop(n, h);
  m.copyset.delete(h.src);
  m.busy.acks--;
  yield step('dsm', 'serve', n.k.profile.values['kernel.portalsMatchCycles'], `manager: rank ${h.src} dropped page ${h.page} (${m.busy.acks} to go)`);
  if (m.busy.acks === 0) yield* writeReady(n, r, h.page, m, cpu);
}

function* confirm(n: DsmNode, r: DsmRegion, h: DsmHeader, cpu: Cpu): KPath {
  const m = r.managed.get(h.page);
  if (m === undefined || m.busy === null || m.busy.requester !== h.src || m.busy.access !== h.arg) return yield* drop(n, h);
  if (h.arg === ACCESS.write) {
    m.copyset.clear();
    m.owner = h.src;
  } else if (m.owner === -1) m.owner = h.src;
  m.copyset.add(h.src);
  m.busy = null;
  yield step('dsm', 'serve', n.k.profile.values['kernel.portalsMatchCycles'], `manager: rank ${h.src} holds page ${h.page} ${ACCESS_NAME[h.arg]} (owner ${m.owner}, copies ${copies(m)})`);
  yield* next(n, r, h.page, m, cpu);
}

/** The page went with a node that is down (a fetch or a transfer could not be delivered). */
function* lost(n: DsmNode, r: DsmRegion, h: DsmHeader, cpu: Cpu): KPath {
  const m = r.managed.get(h.page);
  const { rank, access } = unpack(h.arg);
  if (m === undefined || m.busy === null || m.busy.requester !== rank) return yield* drop(n, h);
  yield* lose(n, r, h.page, m, access === ACCESS.write ? r.nids[rank] : -1, cpu);
}

/** Ends the page's transaction; `node` >= 0 marks the page lost with that node. */
function* lose(n: DsmNode, r: DsmRegion, page: number, m: ManagedPage, node: number, cpu: Cpu): KPath {
  m.busy = null;
  if (node >= 0) m.lostWith = node;
  yield step('dsm', 'serve', n.k.profile.values['kernel.portalsMatchCycles'], node >= 0 ? `manager: page ${page} is lost with node ${node}` : `manager: transfer of page ${page} abandoned`);
  yield* next(n, r, page, m, cpu);
}

// ---- the owner and the holders --------------------------------------------------

function* fetch(n: DsmNode, r: DsmRegion, h: DsmHeader, cpu: Cpu): KPath {
  const { rank, access } = unpack(h.arg);
  if (!validPage(r, h.page) || r.managerOf(h.page) !== h.src || rank < 0 || rank >= r.size || !isAccess(access) || r.access[h.page] === ACCESS.none) return yield* drop(n, h);
  r.stats.served++;
  yield step('dsm', 'serve', n.k.profile.values['kernel.portalsMatchCycles'], `owner: page ${h.page} to rank ${rank} (${ACCESS_NAME[access]})`);
  if (access === ACCESS.write) yield* reduce(n, r, h.page, ACCESS.none, cpu);
  else if (r.access[h.page] === ACCESS.write) yield* reduce(n, r, h.page, ACCESS.read, cpu);
  n.send(r, rank, 'data', h.page, access, r.pa + h.page * PAGE);
}

function* invalidate(n: DsmNode, r: DsmRegion, h: DsmHeader, cpu: Cpu): KPath {
  if (!validPage(r, h.page) || r.managerOf(h.page) !== h.src) return yield* drop(n, h);
  yield* reduce(n, r, h.page, ACCESS.none, cpu);
  n.send(r, h.src, 'inv-ack', h.page, 0);
}

/** Lowers this node's access to a page: the entry, then every core that may cache it. */
function* reduce(n: DsmNode, r: DsmRegion, page: number, to: Access, cpu: Cpu): KPath {
  const from = r.access[page];
  r.access[page] = to;
  if (to === ACCESS.none) r.stats.invalidations++;
  const va = r.base + page * PAGE;
  yield step('dsm', 'invalidate', n.k.profile.values['kernel.mapPageCycles'], `page ${page} ${ACCESS_NAME[from]} -> ${ACCESS_NAME[to]}`);
  const p = r.process;
  if (p === null || !p.alive) return;
  setEntry(r, page, to);
  yield* shootdown(n.k, cpu, p.aspace, [{ va, size: PAGE }]);
}

/** Writes the page-table entry of `page` in the attached process for `access`. */
export function setEntry(r: DsmRegion, page: number, access: Access): void {
  const p = r.process;
  if (p === null || !p.alive) return;
  p.aspace.pt.map(r.base + page * PAGE, r.pa + page * PAGE, PAGE, { readable: access !== ACCESS.none, writable: access === ACCESS.write, executable: false });
}

// ---- the requester ----------------------------------------------------------------

function* data(n: DsmNode, r: DsmRegion, h: DsmHeader, rx: RxHeader, cpu: Cpu): KPath {
  const nic = n.k.node.nic;
  if (!validPage(r, h.page) || !isAccess(h.arg) || r.pending[h.page] !== h.arg || rx.payloadLen !== PAGE) {
    nic.discard(rx.rxId);
    return yield* drop(n, h);
  }
  yield step('dsm', 'serve', n.k.profile.values['kernel.portalsMatchCycles'], `requester: page ${h.page} arriving from rank ${h.src}, DMA into frame 0x${(r.pa + h.page * PAGE).toString(16)}`);
  const page = h.page;
  const access = h.arg;
  n.expectRx(r, rx.rxId, r.pa + page * PAGE, PAGE, (c) => install(n, r, page, access, c));
  void cpu;
}

/** The page is here: map it, confirm to the manager, wake the faulting threads. */
function* install(n: DsmNode, r: DsmRegion, page: number, access: Access, cpu: Cpu): KPath {
  r.access[page] = access;
  r.pending[page] = ACCESS.none;
  r.stats.grants++;
  setEntry(r, page, access);
  yield step('dsm', 'grant', n.k.profile.values['kernel.mapPageCycles'], `page ${page} ${ACCESS_NAME[access]} at rank ${r.rank}`);
  n.send(r, r.managerOf(page), 'confirm', page, access);
  yield* wakeAll(n, r.waiters, page, 'granted', cpu);
}

function* fail(n: DsmNode, r: DsmRegion, h: DsmHeader, cpu: Cpu): KPath {
  if (!validPage(r, h.page) || r.managerOf(h.page) !== h.src) return yield* drop(n, h);
  yield* pageLost(n, r, h.page, `page ${h.page} (0x${(r.base + h.page * PAGE).toString(16)}) is lost: node ${h.arg}, which held it, is down`, cpu);
}

/** A page this node waits for cannot come: the process that needs it is killed, naming why. */
export function* pageLost(n: DsmNode, r: DsmRegion, page: number, why: string, cpu: Cpu): KPath {
  r.pending[page] = ACCESS.none;
  r.waiters.delete(page);
  yield step('dsm', 'fail', n.k.profile.values['kernel.syscallWorkCycles'], why);
  const p = r.process;
  if (p !== null && p.alive) n.k.killProcess(p, DSM_LOST_STATUS, `dsm: ${why}`);
  void cpu;
}


// ---- messages that could not be delivered ---------------------------------------

export function* transmitFailed(n: DsmNode, r: DsmRegion, h: DsmHeader, dst: number, cpu: Cpu): KPath {
  const node = r.nids[dst];
  const m = r.managed.get(h.page);
  switch (h.type) {
    case 'read-req':
    case 'write-req':
      return yield* pageLost(n, r, h.page, `page ${h.page} (0x${(r.base + h.page * PAGE).toString(16)}) cannot be served: node ${node}, its manager, is down`, cpu);
    case 'fetch':
      // The owner is down with the only current copy.
      if (m !== undefined && m.busy !== null) {
        const requester = m.busy.requester;
        yield* lose(n, r, h.page, m, node, cpu);
        n.send(r, requester, 'fail', h.page, node);
      }
      return;
    case 'invalidate':
      // A copy that went down with its node is as good as dropped.
      if (m !== undefined && m.busy !== null && m.copyset.delete(dst)) {
        m.busy.acks--;
        if (m.busy.acks === 0) yield* writeReady(n, r, h.page, m, cpu);
      }
      return;
    case 'grant':
      // A write grant's copies are gone already: what the requester held is lost with it.
      if (m !== undefined && m.busy !== null) yield* lose(n, r, h.page, m, h.arg === ACCESS.write && m.owner !== -1 ? node : -1, cpu);
      return;
    case 'data':
      n.send(r, r.managerOf(h.page), 'lost', h.page, pack(dst, h.arg as Access));
      return;
    case 'lock-req':
    case 'unlock':
    case 'arrive':
      return yield* syncUnreachable(n, r, h, node, cpu);
    case 'inv-ack':
    case 'confirm':
    case 'fail':
    case 'lost':
    case 'lock-grant':
    case 'go':
    case 'detached':
    case 'release':
    case 'join':
    case 'joined':
    case 'expect':
    case 'probe':
      return;
    default:
      return unreachable(h.type);
  }
}

/**
 * `node` is down (a probe could not reach it: watch.ts). As manager: a
 * transaction that waits on a rank there ends (a write's page went with it,
 * as did the page of an owner there asked to send it), so the queue moves
 * on. As requester: a page whose manager is there cannot come.
 */
export function* pagesOnNodeDown(n: DsmNode, r: DsmRegion, node: number, cpu: Cpu): KPath {
  for (const [page, m] of [...r.managed].sort((a, b) => a[0] - b[0])) {
    const b = m.busy;
    if (b === null) continue;
    if (r.nids[b.requester] === node) yield* lose(n, r, page, m, b.access === ACCESS.write && m.owner !== -1 ? node : -1, cpu);
    else if (b.needData && m.owner >= 0 && r.nids[m.owner] === node) {
      yield* lose(n, r, page, m, node, cpu);
      n.send(r, b.requester, 'fail', page, node);
    }
  }
  for (const page of [...r.waiters.keys()].sort((a, b) => a - b))
    if (r.nids[r.managerOf(page)] === node) yield* pageLost(n, r, page, `page ${page} (0x${(r.base + page * PAGE).toString(16)}) cannot be served: node ${node}, its manager, is down`, cpu);
}

function unreachable(x: never): never {
  throw new Error(`unhandled DSM message ${String(x)}`);
}
