// App status and app kill. They are honoured only from the job's launcher
// (or from root, the service node's kernel acting for the monitor); anyone
// else gets the answer a job that does not exist gets. Kernels do not store
// and forward: the service node sends kill to every node itself.

import type { Cpu } from '../cpu.ts';
import { type KPath, step } from '../step.ts';
import { killOnRequest } from './failnotice.ts';
import type { KMsgHeader } from './jobmsg.ts';
import { type JobRecord, type JobState, copyCycles } from './records.ts';

/** App status: a dump of every CPU context of the job's process. */
export function* status(s: JobState, h: KMsgHeader, _cpu: Cpu): KPath {
  const k = s.k;
  const r = visibleRecord(s, h);
  const lines: string[] = [];
  if (r === undefined || !r.process.alive) lines.push(`node ${k.nid}: no live process of job ${h.jobId}`);
  else {
    const p = r.process;
    for (const t of p.threads) {
      if (t.state === 'dead') continue;
      const regs = ['rip', 'rsp', 'rax', 'rdi', 'rsi', 'rdx', 'rflags', 'cr3'] as const;
      lines.push(`node ${k.nid} rank ${r.rank} pid ${p.pid} (${p.name}) tid ${t.tid} core ${t.home} ${t.state}: ${regs.map((x) => `${x}=0x${t.cpu.get(x).toString(16)}`).join(' ')}`);
    }
  }
  const text = lines.join('\n') + '\n';
  yield step('jobctl', 'status', copyCycles(k, text.length) + k.profile.values['kernel.syscallWorkCycles'], `${lines.length} context(s)`);
  s.transport.send(h.srcNid, s.transport.header('status-reply', { dstPid: h.srcPid, rank: r?.rank ?? -1, jobId: h.jobId, code: lines.length }), new TextEncoder().encode(text));
}

/** App kill: kill the job's process here and answer affirmatively. */
export function* kill(s: JobState, h: KMsgHeader, _cpu: Cpu): KPath {
  const r = visibleRecord(s, h);
  let killed = 0;
  if (r !== undefined && r.process.alive) {
    killOnRequest(s, r.process, 137, `killed by app kill from node ${h.srcNid}`);
    killed = 1;
  }
  yield step('jobctl', 'kill', s.k.profile.values['kernel.syscallWorkCycles'], `job ${h.jobId}: ${killed} process(es)`);
  s.transport.send(h.srcNid, s.transport.header('kill-ack', { dstPid: h.srcPid, rank: r?.rank ?? -1, jobId: h.jobId, code: killed }), null);
}

/** The record a status or kill may see: to anyone but the launcher, the job does not exist here. */
function visibleRecord(s: JobState, h: KMsgHeader): JobRecord | undefined {
  const r = s.records.get(h.jobId);
  return r !== undefined && fromLauncher(h, r) ? r : undefined;
}

/** App status and app kill are honoured from the job's launcher (its node, pid and uid) or from root (uid 0: the service node's kernel for the monitor). */
function fromLauncher(h: KMsgHeader, r: JobRecord): boolean {
  return h.uid === 0 || (h.uid === r.uid && h.srcNid === r.block.serviceNid && h.srcPid === r.block.servicePid);
}
