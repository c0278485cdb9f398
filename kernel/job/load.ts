// Job load: a load message is refused before its payload is received (busy
// node, duplicate job, impossible sizes) or, once received, its image and
// job block are verified, the rank's process is created and the loader gets
// an ACK; anything wrong is a NACK with the reason, which the report names.
// A rank's record is created once, by a load from the launcher (yod, named
// in the job block) or from its parent rank in the job's load tree, and is
// never replaced.

import type { Cpu } from '../cpu.ts';
import type { Process } from '../process.ts';
import { type KPath, step } from '../step.ts';
import { loadParentOf } from './forward.ts';
import { parseImage } from './image.ts';
import { RangeJobMap, parseJobBlock } from './jobblock.ts';
import { type KMsgHeader, NO_SUMMARY, SENDER } from './jobmsg.ts';
import { type JobState, copyCycles } from './records.ts';
import { MAX_KMSG_PAYLOAD } from './transport.ts';

/** Why a load cannot even be received, or null. */
export function loadRefusal(s: JobState, h: KMsgHeader, payloadLen: number): string | null {
  // A record is never replaced, even after its rank ended: its exit fan-in may still be under way.
  if (s.records.has(h.jobId)) return `job ${h.jobId} already has a rank on node ${s.k.nid}`;
  const busy = s.k.liveProcesses()[0];
  if (busy !== undefined) return `node busy: pid ${busy.pid} (${busy.name}) is running`;
  if (s.loading) return 'node busy: another job load is in progress';
  if (payloadLen > MAX_KMSG_PAYLOAD) return `image of ${payloadLen} bytes is larger than ${MAX_KMSG_PAYLOAD}`;
  if (h.imageLen <= 0 || h.imageLen > payloadLen) return `image length ${h.imageLen} does not fit the ${payloadLen}-byte message`;
  return null;
}

/** Job load: validate the image and the job block, create the process, ACK. */
export function* load(s: JobState, h: KMsgHeader, payload: Uint8Array, cpu: Cpu): KPath {
  const k = s.k;
  const v = k.profile.values;
  try {
    yield step('jobload', 'verify', copyCycles(k, payload.length), `${h.imageLen}-byte image for rank ${h.rank} of job ${h.jobId}`);
    const img = parseImage(payload.subarray(0, h.imageLen));
    if (!img.ok) return yield* nack(s, h, `bad image: ${img.reason}`, cpu);
    const jb = parseJobBlock(payload.subarray(h.imageLen), k.host.nodeCount);
    if (!jb.ok) return yield* nack(s, h, jb.reason, cpu);
    const block = jb.block;
    const map = new RangeJobMap(block.ranges, block.size, block.pid);
    if (block.jobId !== h.jobId) return yield* nack(s, h, `job block is for job ${block.jobId}, the message for job ${h.jobId}`, cpu);
    const fromLauncher = h.srcNid === block.serviceNid && h.srcPid === block.servicePid;
    const fromRank = h.srcPid === block.pid && map.hasNode(h.srcNid);
    if (!fromLauncher && !fromRank) return yield* nack(s, h, `a load must come from the job's launcher (node ${block.serviceNid} pid ${block.servicePid}) or one of its ranks, not node ${h.srcNid} pid ${h.srcPid}`, cpu);
    // A job block names whom the sender likes: its kernel's stamp says whether the sender really is a launcher
    // (yod, which the host starts on the service partition) or a loaded rank of this job. Nodes are the launcher's to give.
    if (fromLauncher ? h.sender !== SENDER.launcher : h.sender !== SENDER.rank) return yield* nack(s, h, `node ${h.srcNid} pid ${h.srcPid} is not ${fromLauncher ? 'a job launcher' : `a loaded rank of job ${h.jobId}`}: only the launcher places a job on nodes`, cpu);
    if (h.rank < 0 || h.rank >= block.size) return yield* nack(s, h, `rank ${h.rank} is outside the job's ${block.size} ranks`, cpu);
    // A rank loads only its children (its kernel checked so, forward.ts); the launcher loads rank 0.
    const parent = loadParentOf(block.bytes, h.rank);
    if (fromRank && !fromLauncher && (parent < 0 || map.at(parent).nid !== h.srcNid)) return yield* nack(s, h, `rank ${h.rank} is loaded by ${parent < 0 ? 'the launcher' : `its parent, rank ${parent} on node ${map.at(parent).nid}`}, not by node ${h.srcNid}`, cpu);
    if (map.at(h.rank).nid !== k.nid) return yield* nack(s, h, `rank ${h.rank} belongs on node ${map.at(h.rank).nid}, not ${k.nid}`, cpu);
    const code = k.host.catalog.instantiate(img.image.textHash);
    if (code === null) return yield* nack(s, h, `no code for the text of '${img.image.name}' (unknown program)`, cpu);
    let p: Process;
    try {
      p = k.spawn(
        { name: img.image.name, textBytes: img.image.textBytes, dataBytes: img.image.dataBytes, bssBytes: img.image.bssBytes, data: img.image.data, text: img.image.text, instantiate: () => code },
        { rank: h.rank, jobSize: block.size, jobMap: map, uid: h.uid, argv: block.argv, envp: block.envp },
        { pid: block.pid, jobBlock: block.bytes, image: payload },
      );
    } catch (e) {
      return yield* nack(s, h, `cannot create the process: ${(e as Error).message}`, cpu);
    }
    yield step('jobload', 'create', copyCycles(k, payload.length) + v['kernel.mapPageCycles'] * 8, `pid ${p.pid} ${p.name} uid ${h.uid}`);
    s.stats.loads++;
    s.records.set(h.jobId, {
      jobId: h.jobId,
      rank: h.rank,
      size: block.size,
      parentNid: h.srcNid,
      parentPid: h.srcPid,
      block,
      loadImageLen: h.imageLen,
      uid: h.uid,
      process: p,
      execing: false,
      children: new Map(),
      processDone: false,
      summary: NO_SUMMARY,
      loadedAt: k.engine.now,
      mainAt: -1,
      mainDoneAt: -1,
      exitSentAt: -1,
    });
    s.transport.send(h.srcNid, s.transport.header('load-ack', { dstPid: h.srcPid, srcPid: p.pid, rank: h.rank, jobId: h.jobId }), null);
    yield step('jobload', 'ack', v['kernel.portalsSetupCycles'], `rank ${h.rank} to node ${h.srcNid}`);
  } finally {
    s.loading = false;
  }
}

/** Refuses a load: the refusal is kept for the report and the loader gets a NACK with the reason. */
export function* nack(s: JobState, h: KMsgHeader, reason: string, _cpu: Cpu): KPath {
  s.stats.nacks++;
  s.refusals.push({ jobId: h.jobId, rank: h.rank, reason, at: s.k.engine.now });
  if (s.refusals.length > 1000) s.refusals.shift();
  yield step('jobload', 'nack', s.k.profile.values['kernel.portalsSetupCycles'], `rank ${h.rank}: ${reason}`);
  s.transport.send(h.srcNid, s.transport.header('load-nack', { dstPid: h.srcPid, rank: h.rank, jobId: h.jobId, code: 1 }), new TextEncoder().encode(reason));
}
