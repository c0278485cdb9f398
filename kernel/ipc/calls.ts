// The system calls of Mach-style ports: allocate a port, make a send right,
// deallocate a right, publish a port and look one up on any node, send,
// receive, RPC and reply. Every port argument is a name in the caller's own
// right table (rights.ts): a name the caller was not given, or one freed
// since, is -EBADF; a right of the wrong kind is -EPERM.

import { ERRNO, fail } from '../errno.ts';
import { hold, release } from '../holds.ts';
import type { Cpu } from '../cpu.ts';
import type { Kernel } from '../kernel.ts';
import { type KPath, block, step } from '../step.ts';
import { type SyscallCtx, argInt, argPtr, argSize } from '../syscalls/context.ts';
import type { SyscallName } from '../syscalls/table.ts';
import { checkUser, copyin, copyout, i64bytes } from '../uaccess.ts';
import { LOOKUP_WAIT_MAX_NS, LOOKUP_WAIT_MIN_NS, MAX_WAITING_LOOKUPS } from './lookups.ts';
import { LOOKUP_OP, PORT_MAX_WORDS, PORT_MSG_KIND, type Port, type PortMsg, type PortRef, homeOf } from './ports.ts';
import { RPC_PROBE_PS } from './probes.ts';
import type { Right } from './rights.ts';

/** ipc_port_alloc flags. */
export const IPC_FLAGS = { IPC_NMS: 1 } as const;

/** Slots before the words in ipc_receive's buffer: kind, carried right's name, reply right's name. */
export const RECEIVE_HEADER_WORDS = 3;

const NO_NAME = -1;

/** The right `name` denotes in the caller's table; -EBADF if none (counted: it is a forgery or a stale name). */
function right(c: SyscallCtx, name: number): Right {
  const r = c.k.ports.table(c.p).get(name);
  if (r === undefined) {
    c.k.ports.stats.forgeries++;
    fail('EBADF', `port name ${name} is not a right of this task`);
  }
  return r;
}

/** The port whose receive right the caller holds under `name` (here: receive rights do not move). */
function received(c: SyscallCtx, name: number): Port {
  const r = right(c, name);
  if (r.kind !== 'receive') fail('EPERM', `port name ${name} is a ${r.kind} right, not a receive right`);
  const port = c.k.ports.ports.get(r.port);
  if (port === undefined) fail('ECONNREFUSED', `port ${r.port} is dead`);
  return port;
}

/** A right the caller may send to: a send or send-once right (send-once is used up by the send). */
function sendable(c: SyscallCtx, name: number, once: boolean): Right {
  const r = right(c, name);
  if (once ? r.kind !== 'send-once' : r.kind !== 'send') fail('EPERM', `port name ${name} is a ${r.kind} right, not a ${once ? 'send-once (reply)' : 'send'} right`);
  // A dead port on this node is known at once; one on another node only at its home.
  if (homeOf(r.port) === c.k.nid && !c.k.ports.ports.has(r.port)) fail('ECONNREFUSED', `port ${r.port} is dead`);
  return r;
}

/** Reads `n` words (0..PORT_MAX_WORDS) from user memory. */
function* words(c: SyscallCtx, buf: number, n: number): KPath<number[]> {
  if (n > PORT_MAX_WORDS) fail('EINVAL', `${n} words (at most ${PORT_MAX_WORDS})`);
  if (n === 0) return [];
  const b = yield* copyin(c.k, c.cpu, c.p, buf, 8 * n);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = dv.getBigInt64(8 * i, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) fail('EINVAL', `word ${i} does not fit in 53 bits`);
    out.push(Number(v));
  }
  return out;
}

/** The send right a message carries: from a send right, or made from a receive right the caller holds. */
function carry(c: SyscallCtx, name: number): PortRef | null {
  if (name === NO_NAME) return null;
  const r = right(c, name);
  if (r.kind === 'send-once') fail('EPERM', `port name ${name} is a send-once right, which cannot be carried`);
  if (r.kind === 'receive' && !c.k.ports.ports.has(r.port)) fail('ECONNREFUSED', `port ${r.port} is dead`);
  return { port: r.port, nms: r.nms };
}

export function* sys_ipc_port_alloc(c: SyscallCtx): KPath<number> {
  const flags = argInt(c, 0);
  if ((flags & ~IPC_FLAGS.IPC_NMS) !== 0) fail('EINVAL', `unknown flags 0x${flags.toString(16)}`);
  const port = c.k.ports.allocate(c.p, (flags & IPC_FLAGS.IPC_NMS) !== 0);
  if (port === null) fail('ENOSPC', 'no port ids left on this node');
  const name = c.k.ports.table(c.p).insert({ kind: 'receive', port: port.id, nms: port.nms });
  if (name === null) {
    c.k.ports.remove(port);
    fail('ENOSPC', 'the task holds as many rights as it may');
  }
  yield step('ipc', 'right', c.k.profile.values['ipc.rightCycles'], `pid ${c.p.pid}: port ${port.id} (receive right ${name}${port.nms ? ', no-more-senders' : ''})`);
  return name;
}

export function* sys_ipc_make_send(c: SyscallCtx): KPath<number> {
  const port = received(c, argInt(c, 0));
  const name = c.k.ports.makeSend(c.p, port);
  if (name === null) fail('ENOSPC', 'the task holds as many rights as it may');
  yield step('ipc', 'right', c.k.profile.values['ipc.rightCycles'], `pid ${c.p.pid}: send right ${name} to port ${port.id}`);
  return name;
}

export function* sys_ipc_dealloc(c: SyscallCtx): KPath<number> {
  const name = argInt(c, 0);
  right(c, name);
  yield* c.k.ports.deallocate(c.p, name, c.cpu);
  return 0;
}

export function* sys_ipc_publish(c: SyscallCtx): KPath<number> {
  const port = received(c, argInt(c, 0));
  const key = argInt(c, 1);
  if (key < 0 || key > 0x7fffffff) fail('EINVAL', `key ${key}: from 0 to 2^31-1`);
  if (!c.k.ports.publish(c.p.info.uid, key, port)) fail('EEXIST', `a live port of uid ${c.p.info.uid} is published under ${key} on this node`);
  yield step('ipc', 'lookup', c.k.profile.values['ipc.rightCycles'], `publish port ${port.id} as ${key}`);
  // Lookups waiting for the name are answered now.
  yield* c.k.ports.waiting.published(c.p.info.uid, key, port.id, c.cpu);
  return 0;
}

/**
 * A send right to what node nid's name server has under key for the
 * caller's uid. A name not yet published is waited for at that node
 * (lookups.ts: no polling) for timeout_ns, at least LOOKUP_WAIT_MIN_NS,
 * then refused with -ENOENT. The caller's node lets a uid have at most
 * MAX_WAITING_LOOKUPS lookups in progress at one node: one more is -EAGAIN
 * without a message.
 */
export function* sys_ipc_lookup(c: SyscallCtx): KPath<number> {
  const nid = argInt(c, 0);
  const key = argInt(c, 1);
  const timeoutNs = argInt(c, 2);
  if (nid < 0 || nid >= c.k.host.nodeCount) fail('EINVAL', `no node ${nid}`);
  if (key < 0 || key > 0x7fffffff) fail('EINVAL', `key ${key}: from 0 to 2^31-1`);
  if (timeoutNs < 0 || timeoutNs > LOOKUP_WAIT_MAX_NS) fail('EINVAL', `timeout ${timeoutNs} ns: from 0 to ${LOOKUP_WAIT_MAX_NS}`);
  const k = c.k;
  const t = c.t;
  const uid = c.p.info.uid;
  const wait = Math.max(timeoutNs, LOOKUP_WAIT_MIN_NS);
  if (k.ports.asks(nid, uid) >= MAX_WAITING_LOOKUPS) fail('EAGAIN', `${MAX_WAITING_LOOKUPS} lookups of uid ${uid} are in progress at node ${nid}`);
  if (nid === k.nid) {
    let port = k.ports.lookupLocal(uid, key);
    if (port === undefined) {
      const ask = k.ports.beginAsk(c.p, nid);
      const added = k.ports.waiting.add(nid, uid, key, ask, wait, function* (o, cpu) {
        yield* k.wake(t, 'port' in o ? o.port : o.errno, cpu);
      });
      if (!added) {
        k.ports.endAsk(ask);
        fail('EAGAIN', 'too many lookups of this uid wait on this node');
      }
      yield step('ipc', 'lookup', k.profile.values['ipc.rightCycles'], `key ${key}: waits up to ${wait} ns`);
      const v = (yield* block()) as number;
      k.ports.endAsk(ask);
      if (v < 0) return v;
      port = k.ports.ports.get(v);
      if (port === undefined) fail('ENOENT', `the port published under ${key} died`);
    }
    const name = k.ports.makeSend(c.p, port);
    if (name === null) fail('ENOSPC', 'the task holds as many rights as it may');
    yield step('ipc', 'lookup', k.profile.values['ipc.rightCycles'], `key ${key}: port ${port.id}`);
    return name;
  }
  const ask = k.ports.beginAsk(c.p, nid);
  const request = { id: -1 };
  let settled = false;
  // The name server answers by the timeout; a node that answers nothing a probe interval later is hung.
  k.sleepUntil(t, k.engine.now + wait * 1000 + RPC_PROBE_PS, 'sleep', function* (kk, cpu) {
    if (settled) return;
    settled = true;
    yield* kk.ipc.forget(request.id, cpu);
    yield* kk.wake(t, -ERRNO.EHOSTUNREACH, cpu);
  });
  yield* k.ipc.request(nid, 'lookup', [LOOKUP_OP.ask, key, uid, timeoutNs, ask], null, function* (r, cpu) {
    const answer: number | PortRef = r.ok ? { port: r.words[0], nms: r.words[1] === 1 } : r.errno;
    // The home counted this node as a sender when it answered: the node holds the right from now on,
    // and gives it up again if the asker is gone or gave up (its NMS notice still comes).
    if (typeof answer !== 'number' && homeOf(answer.port) === nid) {
      k.ports.lookedUp(answer);
      if (settled || !t.process.alive) return yield* k.ports.unclaimed(answer, cpu);
      // Counted in from here, the right is the thread's until its path puts it in the table: if the process ends
      // after this wake and before the thread runs, its death counts the right out (holds.ts), or the home would
      // keep this node as a sender for ever and the port's owner never get its No More Senders.
      hold(t, answer, (cc) => k.ports.unclaimed(answer, cc));
    }
    if (settled) return;
    settled = true;
    yield* k.wake(t, answer, cpu);
  }, request);
  const a = (yield* block()) as number | PortRef;
  k.ports.endAsk(ask);
  if (typeof a === 'number') return a;
  if (homeOf(a.port) !== nid) fail('EIO', `node ${nid} answered with port ${a.port} of another node`);
  const name = k.ports.insertSend(c.p, a);
  // In the table (a death from here gives it up as any right) or given back below: the thread holds it no more.
  release(t, a);
  if (name === null) {
    yield* k.ports.unclaimed(a, c.cpu);
    fail('ENOSPC', 'the task holds as many rights as it may');
  }
  return name;
}

export function* sys_ipc_send(c: SyscallCtx): KPath<number> {
  const r = sendable(c, argInt(c, 0), false);
  const ws = yield* words(c, argPtr(c, 1), argSize(c, 2));
  const carried = carry(c, argInt(c, 3));
  // The send returns the port's verdict: 0 queued, -EAGAIN full (admission.ts), -ECONNREFUSED dead, -EHOSTUNREACH.
  const k = c.k;
  const t = c.t;
  const box: { v: number | null } = { v: null };
  const ticket = { id: -1 };
  // Only a thread blocked for the verdict is woken: a port of this node answers at once, inside this path, and a wake
  // of the running thread would be left for its next block in some later call (which would then return at once).
  let waiting = false;
  const answered = function* (v: number, cpu: Cpu): KPath {
    if (box.v !== null) return;
    box.v = v;
    if (waiting) yield* k.wake(t, null, cpu);
  };
  yield* k.ports.sendChecked(r.port, { kind: 'message', words: ws, carried, reply: null, sender: c.k.ports.senders.of(c.p) }, c.cpu, answered, ticket);
  if (box.v === null) {
    // A port on another node answers over the transport; a node that dies or hangs meanwhile is found by probes, as for an RPC.
    // (A port here waits only for an NMS registration with another node, which the transport answers or fails.)
    const home = homeOf(r.port);
    const unwatch =
      home === k.nid
        ? () => {}
        : k.ports.probes.watch(home, function* (why, cpu) {
            yield step('ipc', 'undeliverable', 0, `send to port ${r.port}: ${why}`);
            yield* k.ipc.forget(ticket.id, cpu);
            yield* answered(-ERRNO.EHOSTUNREACH, cpu);
          });
    const watch = { unwatch };
    hold(t, watch, function* () {
      unwatch();
    });
    waiting = true;
    while (box.v === null) yield* block();
    release(t, watch);
    unwatch();
  }
  return box.v;
}

export function* sys_ipc_reply(c: SyscallCtx): KPath<number> {
  const name = argInt(c, 0);
  const r = sendable(c, name, true);
  const ws = yield* words(c, argPtr(c, 1), argSize(c, 2));
  c.k.ports.table(c.p).remove(name);
  yield* c.k.ports.send(r.port, { kind: 'message', words: ws, carried: null, reply: null }, c.cpu);
  return 0;
}

export function* sys_ipc_receive(c: SyscallCtx): KPath<number> {
  const port = received(c, argInt(c, 0));
  const buf = argPtr(c, 1);
  const max = argSize(c, 2);
  if (max < RECEIVE_HEADER_WORDS) fail('EINVAL', `a buffer of ${max} words cannot hold the ${RECEIVE_HEADER_WORDS} header words`);
  // From here the thread holds the message (ports.take, or handed to it while it waited): if the process
  // dies while the buffer check below pages in, the message goes back to the port (kernel/holds.ts).
  let m = c.k.ports.take(port, c.t);
  if (m === null) {
    port.waiters.push(c.t);
    const v = yield* block();
    if (typeof v === 'number') return v;
    m = v as PortMsg;
  }
  // The buffer is checked before the message's rights enter the table: a receive that cannot copy out leaves the message queued.
  const n = Math.min(m.words.length, max - RECEIVE_HEADER_WORDS);
  try {
    yield* checkUser(c.k, c.cpu, c.p, buf, 8 * (RECEIVE_HEADER_WORDS + n), true);
  } catch (e) {
    c.k.ports.received(c.t, m);
    yield* c.k.ports.putBack(port, m, c.cpu);
    throw e;
  }
  // So is the room for the rights it carries: a right dropped here would leave an RPC caller waiting for
  // ever (its reply right gone, no port-dead) and a No-More-Senders count that never reaches zero. The
  // message stays queued: the receiver frees names and receives again, or dies and the message's rights
  // are given up as at any death (port-dead to the caller, the send right's count dropped).
  const table = c.k.ports.table(c.p);
  const needed = (m.carried === null ? 0 : 1) + (m.reply === null ? 0 : 1);
  if (table.room < needed) {
    c.k.ports.received(c.t, m);
    yield* c.k.ports.putBack(port, m, c.cpu);
    fail('ENOSPC', `the message carries ${needed} right(s) and the task's right table is full: it stays queued`);
  }
  const carriedName = m.carried === null ? NO_NAME : table.insert({ kind: 'send', port: m.carried.port, nms: m.carried.nms })!;
  const replyName = m.reply === null ? NO_NAME : table.insert({ kind: 'send-once', port: m.reply, nms: false })!;
  // Its rights are the task's now: a death from here gives them up as any right in the table.
  c.k.ports.received(c.t, m);
  yield* copyout(c.k, c.cpu, c.p, buf, i64bytes(PORT_MSG_KIND[m.kind], carriedName, replyName, ...m.words.slice(0, n)));
  return n;
}

export function* sys_ipc_rpc(c: SyscallCtx): KPath<number> {
  const r = sendable(c, argInt(c, 0), false);
  const ws = yield* words(c, argPtr(c, 1), argSize(c, 2));
  const rbuf = argPtr(c, 3);
  const rmax = argSize(c, 4);
  const replyPort = c.k.ports.allocate(c.p, false, true);
  if (replyPort === null) fail('ENOSPC', 'no port ids left on this node');
  replyPort.waiters.push(c.t);
  const request = { id: -1 };
  yield* c.k.ports.send(r.port, { kind: 'message', words: ws, carried: null, reply: replyPort.id, sender: c.k.ports.senders.of(c.p) }, c.cpu, request);
  // A server on another node may die holding the request: its node is probed while the answer is due
  // (probes.ts). The watch ends with the reply port: the answer came, or the caller died.
  const home = homeOf(r.port);
  const k = c.k;
  const t = c.t;
  if (home !== k.nid && k.ports.ports.has(replyPort.id)) {
    replyPort.unwatch = k.ports.probes.watch(home, function* (why, cpu) {
      // Only a caller still waiting: an answer that came first has woken it already.
      const i = replyPort.waiters.indexOf(t);
      if (i < 0) return;
      replyPort.waiters.splice(i, 1);
      replyPort.unwatch = null;
      k.ports.remove(replyPort);
      // A request the hung node never acknowledged stops holding the transport (and NORMA's queue to that node).
      yield* k.ipc.transport.cancel(request.id, cpu);
      yield step('ipc', 'undeliverable', 0, `RPC to port ${r.port}: ${why}`);
      yield* k.wake(t, -ERRNO.EHOSTUNREACH, cpu);
    });
  }
  const v = yield* block();
  // The answer is the caller's now (the port hands it over held, as to any receiver: ports.ts handTo).
  if (typeof v !== 'number') c.k.ports.received(t, v as PortMsg);
  // An answer (the reply, its port-dead or queue-full) spent the send-once right: nothing can reach this id any more.
  c.k.ports.remove(replyPort, typeof v !== 'number');
  if (typeof v === 'number') return v;
  const m = v as PortMsg;
  if (m.kind === 'port-dead') return -ERRNO.ECONNREFUSED;
  if (m.kind === 'queue-full') return -ERRNO.EAGAIN;
  const n = Math.min(m.words.length, rmax);
  if (n > 0) yield* copyout(c.k, c.cpu, c.p, rbuf, i64bytes(...m.words.slice(0, n)));
  return n;
}

const CALLS: Readonly<Partial<Record<SyscallName, (c: SyscallCtx) => KPath<number>>>> = {
  ipc_port_alloc: sys_ipc_port_alloc,
  ipc_make_send: sys_ipc_make_send,
  ipc_dealloc: sys_ipc_dealloc,
  ipc_publish: sys_ipc_publish,
  ipc_lookup: sys_ipc_lookup,
  ipc_send: sys_ipc_send,
  ipc_receive: sys_ipc_receive,
  ipc_rpc: sys_ipc_rpc,
  ipc_reply: sys_ipc_reply,
};

/** Registers the port calls at boot (Kitten's syscall_register). */
export function registerIpc(k: Kernel): void {
  for (const [name, h] of Object.entries(CALLS)) k.registerSyscall(name as SyscallName, h!);
}
