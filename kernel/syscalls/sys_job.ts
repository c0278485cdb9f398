// The job-control calls: send a kernel-interpreted message, wait for one,
// replace the calling rank by another image (the "jump into main" of the
// two-phase load), and report main's start and end for the phase times.

import { USER_VA_LIMIT } from '../../hw/mmu.ts';
import { KMSG } from '../abi.ts';
import { fail } from '../errno.ts';
import { parseImage } from '../job/image.ts';
import { forwardRefusal } from '../job/forward.ts';
import { type KMsgType, SENDER } from '../job/jobmsg.ts';
import { MAX_KMSG_PAYLOAD } from '../job/jobctl.ts';
import { Pin } from '../pin.ts';
import { type KPath, block, step } from '../step.ts';
import { copyin, copyout, userPieces } from '../uaccess.ts';
import { type SyscallCtx, argInt, argPtr, argSize } from './context.ts';

const SENDABLE: ReadonlyMap<number, KMsgType> = new Map([
  [KMSG.LOAD, 'load'],
  [KMSG.STATUS, 'status'],
  [KMSG.KILL, 'kill'],
]);

const work = (c: SyscallCtx) => c.k.profile.values['kernel.syscallWorkCycles'];

export function* sys_lwk_kmsg_send(c: SyscallCtx): KPath<number> {
  const raw = yield* copyin(c.k, c.cpu, c.p, argPtr(c, 0), 9 * 8);
  const dv = new DataView(raw.buffer);
  const w = (i: number) => {
    const v = dv.getBigInt64(8 * i, true);
    if (v < -(2n ** 53n) || v > 2n ** 53n) fail('EINVAL', `field ${i} out of range`);
    return Number(v);
  };
  const type = SENDABLE.get(w(0));
  if (type === undefined) fail('EINVAL', `a process may send LOAD, STATUS or KILL, not type ${w(0)}`);
  const dstNid = w(1);
  if (!(dstNid >= 0 && dstNid < c.k.host.nodeCount)) fail('EINVAL', `node ${dstNid} is not in the machine`);
  const len = w(6);
  if (len < 0 || len > MAX_KMSG_PAYLOAD) fail('EINVAL', `payload of ${len} bytes`);
  const imageLen = w(7);
  if (type === 'load' && !(imageLen > 0 && imageLen <= len)) fail('EINVAL', `image length ${imageLen} does not fit the ${len}-byte payload`);
  // The kernel vouches for what its sender is: a launcher the host started, or the loaded rank of the named job here.
  const record = c.k.jobs.records.get(w(4));
  const sender = c.p.info.launcher === true ? SENDER.launcher : record?.process === c.p ? SENDER.rank : SENDER.none;
  // A rank's load is the load it received, to one of its children (job/forward.ts): checked before anything is pinned.
  if (type === 'load' && sender === SENDER.rank) {
    const why = forwardRefusal(record!, c.p, { dstNid, rank: w(3), va: w(5), len, imageLen });
    if (why !== null) {
      c.k.jobs.stats.forwardsRefused++;
      fail('EPERM', why);
    }
  }
  let pa: number | null = null;
  let pin: Pin | null = null;
  if (len > 0) {
    const va = argPtrValue(w(5));
    const pieces = userPieces(c.p, va, len, false);
    for (let i = 1; i < pieces.length; i++) if (pieces[i].pa !== pieces[i - 1].pa + pieces[i - 1].len) fail('EINVAL', 'payload is not physically contiguous');
    pa = pieces[0].pa;
    // The NIC reads the payload when the message reaches the head of its queue, maybe long after
    // this call returns: pinned (as Portals memory is), a munmap cannot give the frames away first.
    // Pinned rather than copied: a load carries up to 64 MiB and the send stays zero-copy.
    const regions = c.k.portals.physical(c.p, va, len);
    if (regions === null) fail('EFAULT', 'payload is not mapped');
    pin = Pin.of(c.k.phys, regions);
  }
  const h = c.k.jobs.header(type, { dstPid: w(2), srcPid: c.p.pid, rank: w(3), jobId: w(4), uid: c.p.info.uid, imageLen, jobSize: w(8), sender });
  yield step('jobctl', 'send', c.k.profile.values['kernel.portalsSetupCycles'], `${type} to node ${dstNid} rank ${w(3)} (${len} B)`);
  c.k.jobs.transmit(dstNid, h, pa, len, null, pin);
  return 0;
}

function argPtrValue(v: number): number {
  if (v < 0 || v >= USER_VA_LIMIT) fail('EFAULT', 'payload is not a user address');
  return v;
}

export function* sys_lwk_kmsg_recv(c: SyscallCtx): KPath<number> {
  const buf = argPtr(c, 0);
  const len = argSize(c, 1);
  const timeoutNs = argInt(c, 2);
  const headerBytes = KMSG.RECORD_WORDS * 8;
  if (len < headerBytes) fail('EINVAL', `buffer of ${len} bytes; a record needs ${headerBytes}`);
  const jobs = c.k.jobs;
  const deadline = timeoutNs < 0 ? Infinity : c.k.engine.now + timeoutNs * 1000;
  let item = jobs.takeMail(c.p.pid);
  while (item === undefined) {
    if (timeoutNs === 0) fail('EAGAIN', 'no kernel message');
    if (c.k.engine.now >= deadline) fail('ETIMEDOUT', 'no kernel message in time');
    jobs.addWaiter(c.p.pid, c.t);
    if (deadline !== Infinity) {
      const t = c.t;
      const pid = c.p.pid;
      c.k.sleepUntil(t, deadline, 'sleep', function* (k, cpu) {
        k.jobs.removeWaiter(pid, t);
        yield* k.wake(t, 'timeout', cpu);
      });
    }
    yield step('jobctl', 'wait', work(c), `pid ${c.p.pid}`);
    yield* block();
    item = jobs.takeMail(c.p.pid);
  }
  const h = item.header;
  const payload = item.payload.subarray(0, len - headerBytes);
  const out = new Uint8Array(headerBytes + payload.length);
  const dv = new DataView(out.buffer);
  const words = [KMSG[typeKey(h.type)], h.srcNid, h.srcPid, h.rank, h.jobId, h.code, h.summary.ranks, h.summary.failed, h.summary.firstFailedRank, h.summary.firstFailedStatus, payload.length];
  words.forEach((v, i) => dv.setBigInt64(8 * i, BigInt(v), true));
  out.set(payload, headerBytes);
  yield* copyout(c.k, c.cpu, c.p, buf, out);
  return out.length;
}

function typeKey(t: KMsgType): 'LOAD' | 'LOAD_ACK' | 'LOAD_NACK' | 'STATUS' | 'STATUS_REPLY' | 'KILL' | 'KILL_ACK' | 'EXIT' | 'FAILED' {
  return t.toUpperCase().replace('-', '_') as ReturnType<typeof typeKey>;
}

export function* sys_lwk_exec(c: SyscallCtx): KPath<number> {
  const r = c.k.jobs.recordOf(c.p);
  if (r === undefined) fail('ESRCH', `pid ${c.p.pid} is not a rank of a loaded job`);
  if (c.p.liveThreads.length > 1) fail('EBUSY', 'exec needs a single-threaded process');
  const len = argSize(c, 1);
  const bytes = yield* copyin(c.k, c.cpu, c.p, argPtr(c, 0), len);
  const v = c.k.profile.values;
  yield step('jobload', 'exec-verify', Math.ceil(len / v['kernel.copyBytesPerCycle']), `${len}-byte image`);
  const img = parseImage(bytes);
  if (!img.ok) fail('ENOEXEC', img.reason);
  const code = c.k.host.catalog.instantiate(img.image.textHash);
  if (code === null) fail('ENOEXEC', `no code for the text of '${img.image.name}'`);
  const old = c.p;
  r.execing = true;
  c.k.killProcess(old, 0, `exec ${img.image.name}`);
  r.execing = false;
  try {
    r.process = c.k.spawn(
      { name: img.image.name, textBytes: img.image.textBytes, dataBytes: img.image.dataBytes, bssBytes: img.image.bssBytes, data: img.image.data, text: img.image.text, instantiate: () => code },
      old.info,
      { pid: old.pid, jobBlock: r.block.bytes },
    );
  } catch (e) {
    // The old image is gone: the rank ends, and its exit fans in as a failure.
    r.process = old;
    old.exitStatus = 126;
    old.exitReason = `exec failed: ${(e as Error).message}`;
    c.k.jobs.processEnded(old);
    return 0;
  }
  yield step('jobload', 'exec', v['kernel.mapPageCycles'] * 8, `pid ${old.pid} becomes ${img.image.name}`);
  return 0;
}

export function* sys_lwk_image_check(c: SyscallCtx): KPath<number> {
  const len = argSize(c, 1);
  const bytes = yield* copyin(c.k, c.cpu, c.p, argPtr(c, 0), len);
  yield step('jobload', 'image-check', Math.ceil(len / c.k.profile.values['kernel.copyBytesPerCycle']), `${len}-byte image`);
  const img = parseImage(bytes);
  const reason = !img.ok ? img.reason : c.k.host.catalog.instantiate(img.image.textHash) === null ? `no code for the text of '${img.image.name}'` : null;
  if (reason === null) return 0;
  const room = argSize(c, 3);
  if (room > 0) {
    const text = new TextEncoder().encode(reason).subarray(0, room - 1);
    const out = new Uint8Array(text.length + 1);
    out.set(text);
    yield* copyout(c.k, c.cpu, c.p, argPtr(c, 2), out);
  }
  fail('ENOEXEC', reason);
}

export function* sys_lwk_job_phase(c: SyscallCtx): KPath<number> {
  const phase = argInt(c, 0);
  if (phase !== KMSG.PHASE_MAIN && phase !== KMSG.PHASE_MAIN_DONE) fail('EINVAL', `unknown phase ${phase}`);
  yield step('jobctl', 'phase', work(c), phase === KMSG.PHASE_MAIN ? 'main' : 'main returned');
  if (!c.k.jobs.phase(c.p, phase)) fail('ESRCH', 'not a rank of a loaded job');
  return 0;
}
