import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { KMSG } from '../../kernel/abi.ts';
import { type Job, System } from '../../system/system.ts';
import { imageOf, launch } from '../../monitor/launch.ts';
import { encodeJobBlock } from '../../userland/lib/jobblock.ts';
import { type KMsgRecord, kmsgBuffer, recvKMsg } from '../../userland/lib/loader.ts';
import { program } from '../../userland/lib/runtime.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';

// Rank 0 ends at once; the other ranks work for 50 ms, so rank 0's kernel
// waits for its children's exits with no live process on its node.
const lopsided = program('lopsided', function* main(env) {
  if ((yield* env.sys.getrank()) !== 0) yield* env.sys.nanosleep(50e6);
  return 0;
});

const SERVICE = 8;
const VICTIM_UID = 1000;
const INTRUDER_UID = 2000;

function boot(): { sys: System; job: Job } {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [3, 3] }, seed: 1 });
  sys.trace.enabled = false;
  const job = launch(sys, { load: 'two-phase', fanout: { kind: 'binomial' }, programs: [lopsided], map: [{ firstNid: 0, count: 8, image: 0 }], argv: [], timeoutUs: 200_000, jobId: 7 });
  return { sys, job };
}

/** A process of another user on the service node: sends one kernel message about job 7 and keeps the answer. */
function intruder(m: { type: number; dstNid: number; rank: number; jobId: number; withLoad?: boolean; launcherPid?: number }, answers: KMsgRecord[]) {
  return program('intruder', function* (env) {
    let payload = 0;
    let payloadLen = 0;
    let imageLen = 0;
    if (m.withLoad === true) {
      const image = imageOf(lopsided);
      const block = encodeJobBlock({
        jobId: m.jobId, pid: 100, fanout: { kind: 'flat' }, mode: 'one-phase', serviceNid: SERVICE, servicePid: m.launcherPid ?? (yield* env.sys.getpid()),
        initLen: image.length, timeoutUs: 1000, startUs: 0, ranges: [{ firstNid: 0, count: 8, image: 0 }], images: [{ offset: 0, length: image.length }], storeBytes: image.length, argv: ['lopsided'], envp: [],
      });
      payloadLen = image.length + block.length;
      imageLen = image.length;
      payload = yield* env.sys.mmap(0, payloadLen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      yield* env.mem.store(payload, image);
      yield* env.mem.store(payload + image.length, block);
    }
    const rc = yield* env.sys.kmsgSend({ type: m.type, dstNid: m.dstNid, dstPid: 100, rank: m.rank, jobId: m.jobId, payload, payloadLen, imageLen, jobSize: 8 });
    if (rc < 0) throw new Error(`kmsg_send failed: ${rc}`);
    const buf = yield* kmsgBuffer(env);
    const a = yield* recvKMsg(env, buf, 100e6);
    if (a !== null) answers.push(a);
    return 0;
  });
}

function attack(sys: System, m: Parameters<typeof intruder>[0]): KMsgRecord[] {
  const answers: KMsgRecord[] = [];
  sys.kernel(SERVICE).spawn(intruder(m, answers), { rank: 0, jobSize: 1, uid: INTRUDER_UID, argv: ['intruder'], envp: [], launcher: true });
  return answers;
}

describe('a job record belongs to its launcher', () => {
  it('refuses a load from another user naming a job whose rank here has ended, and the job still finishes', () => {
    const { sys, job } = boot();
    const rec = () => sys.kernel(0).jobs.records.get(7);
    sys.run({ until: 5e12, done: () => rec()?.processDone === true });
    expect(rec()?.processDone).toBe(true);
    expect(sys.jobDone(job)).toBe(false);
    const answers = attack(sys, { type: KMSG.LOAD, dstNid: 0, rank: 0, jobId: 7, withLoad: true });
    sys.run({ until: sys.now + 5e12, done: () => sys.jobDone(job) && answers.length > 0 });
    expect(answers.map((a) => a.type)).toEqual([KMSG.LOAD_NACK]);
    expect(rec()?.uid).toBe(VICTIM_UID);
    expect(rec()?.process.name).toBe('lopsided');
    expect(sys.jobDone(job)).toBe(true);
    expect(sys.kernel(SERVICE).jobs.records.size).toBe(0);
    expect(job.yod?.exitStatus).toBe(0);
  });

  it('refuses a load from the job\'s own user that would replace a rank already loaded here', () => {
    const { sys, job } = boot();
    sys.run({ until: 5e12, done: () => sys.kernel(0).jobs.records.get(7)?.processDone === true });
    const answers: KMsgRecord[] = [];
    sys.kernel(SERVICE).spawn(intruder({ type: KMSG.LOAD, dstNid: 0, rank: 0, jobId: 7, withLoad: true }, answers), { rank: 0, jobSize: 1, uid: VICTIM_UID, argv: ['again'], envp: [], launcher: true });
    sys.run({ until: sys.now + 5e12, done: () => sys.jobDone(job) && answers.length > 0 });
    expect(answers[0].type).toBe(KMSG.LOAD_NACK);
    expect(answers[0].text).toMatch(/job 7 already has a rank on node 0/);
    expect(job.yod?.exitStatus).toBe(0);
  });

  it('refuses a load whose sender is neither the launcher its job block names nor a rank of the job', () => {
    const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [3, 3] }, seed: 1 });
    sys.catalog.register(lopsided);
    sys.kernel(3);
    const answers = attack(sys, { type: KMSG.LOAD, dstNid: 3, rank: 3, jobId: 9, withLoad: true, launcherPid: 4242 });
    sys.run({ until: 5e12, done: () => answers.length > 0 });
    expect(answers[0].type).toBe(KMSG.LOAD_NACK);
    expect(answers[0].text).toMatch(/a load must come from the job's launcher \(node 8 pid 4242\) or one of its ranks, not node 8 pid \d+/);
    expect(sys.kernel(3).jobs.records.size).toBe(0);
  });

  for (const [kind, type] of [['status', KMSG.STATUS], ['kill', KMSG.KILL]] as const) {
    it(`answers app ${kind} from another user exactly as it answers for a job that does not exist`, () => {
      const { sys, job } = boot();
      sys.run({ until: 5e12, done: () => sys.rankStates(job).slice(1).every((s) => s.process?.name === 'lopsided') });
      const real = attack(sys, { type, dstNid: 4, rank: 4, jobId: 7 });
      sys.run({ until: sys.now + 5e9, done: () => real.length > 0 });
      const missing = attack(sys, { type, dstNid: 4, rank: 4, jobId: 8 });
      sys.run({ until: sys.now + 5e9, done: () => missing.length > 0 });
      expect(real).toHaveLength(1);
      expect(missing).toHaveLength(1);
      const strip = (a: KMsgRecord) => ({ ...a, jobId: 0, text: a.text.replace(/job \d+/, 'job N') });
      expect(strip(real[0])).toEqual(strip(missing[0]));
      expect(real[0].text).not.toMatch(/uid|1000|lopsided|pid/);
      expect(sys.rankState(job, 4).process?.alive).toBe(true);
    });
  }
});
