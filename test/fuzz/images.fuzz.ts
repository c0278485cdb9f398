// Image fuzzer: mutated executables (bit flips, field edits, truncation,
// extension) through `margay image --check` (the bounded file reader and the
// parser) and through a real job load on a two-node machine. Every mutant
// that differs from its original must be refused with a clear one-line
// reason, both by the check and by the receiving kernel (a NACK); an
// unchanged one must check and load as the original. Nothing may throw.

import { SENDER } from '../../kernel/job/jobmsg.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getProfile } from '../../hw/profile.ts';
import { Rng } from '../../hw/rng.ts';
import type { UserProgram } from '../../kernel/abi.ts';
import { ELF_HEADER_BYTES, PHDR_BYTES } from '../../kernel/job/image.ts';
import { System } from '../../system/system.ts';
import * as imageCommand from '../../monitor/commands/image.ts';
import { imageOf } from '../../monitor/launch.ts';
import { bufferOutput } from '../../monitor/output.ts';
import { APPS } from '../../userland/apps/index.ts';
import { encodeJobBlock } from '../../userland/lib/jobblock.ts';
import { program } from '../../userland/lib/runtime.ts';

export interface ImageFuzzCounts {
  cases: number;
  /** Mutants identical to their original (a flip undone, a field set to its own value). */
  unchanged: number;
  rejected: number;
  /** Mutants also sent to a kernel as a job load. */
  loadsTried: number;
  loaded: number;
  nacked: number;
  hostExceptions: number;
  /** A changed image that was accepted, a refusal without a clear reason, or the check and the kernel disagreeing. */
  violations: number;
  failures: string[];
}

const withData = program('fuzzdata', function* main(env) {
  yield* env.sys.print('data\n');
  return 0;
}, { data: new Uint8Array(Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff)), bssBytes: 8192 });

const BASES: readonly UserProgram[] = [APPS.hello, withData];

/** (offset, width) of every header and note field of an image built by buildImage. */
function fields(img: Uint8Array): [number, number][] {
  const out: [number, number][] = [[16, 2], [18, 2], [20, 4], [24, 8], [32, 8], [40, 8], [48, 4], [52, 2], [54, 2], [56, 2], [58, 2], [60, 2], [62, 2]];
  for (let i = 0; i < 3; i++) for (const [o, w] of [[0, 4], [4, 4], [8, 8], [16, 8], [24, 8], [32, 8], [40, 8], [48, 8]]) out.push([ELF_HEADER_BYTES + i * PHDR_BYTES + o, w]);
  const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const note = Number(dv.getBigUint64(ELF_HEADER_BYTES + 2 * PHDR_BYTES + 8, true));
  out.push([note, 4], [note + 4, 4], [note + 8, 4], [note + 20, 4], [note + 24, 4], [img.length - 32, 8], [img.length - 8, 8]);
  return out;
}

function mutate(rng: Rng, base: Uint8Array, fieldList: [number, number][]): { bytes: Uint8Array; how: string } {
  const kind = rng.nextInt(5);
  if (kind === 0 || kind === 4) {
    const b = base.slice();
    const hows: string[] = [];
    if (kind === 4) hows.push(editField(rng, b, fieldList));
    const n = 1 + rng.nextInt(8);
    for (let i = 0; i < n; i++) {
      const at = rng.nextInt(b.length);
      b[at] ^= 1 << rng.nextInt(8);
      hows.push(`flip@${at}`);
    }
    return { bytes: b, how: hows.join(' ') };
  }
  if (kind === 1) {
    const b = base.slice();
    return { bytes: b, how: editField(rng, b, fieldList) };
  }
  if (kind === 2) {
    const cut = rng.nextInt(base.length);
    return { bytes: base.slice(0, cut), how: `truncate@${cut}` };
  }
  const extra = 1 + rng.nextInt(4096);
  const b = new Uint8Array(base.length + extra);
  b.set(base);
  if (rng.nextInt(2) === 0) for (let i = base.length; i < b.length; i++) b[i] = rng.nextInt(256);
  return { bytes: b, how: `extend+${extra}` };
}

function editField(rng: Rng, b: Uint8Array, fieldList: [number, number][]): string {
  const [at, width] = fieldList[rng.nextInt(fieldList.length)];
  if (at + width > b.length) return 'edit(out of range)';
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const old = width === 2 ? BigInt(dv.getUint16(at, true)) : width === 4 ? BigInt(dv.getUint32(at, true)) : dv.getBigUint64(at, true);
  const mask = (1n << BigInt(8 * width)) - 1n;
  const choices = [0n, 1n, mask, old + 1n, old - 1n, old + 4096n, old - 4096n, old * 2n, 1n << 31n, (1n << 32n) - 1n, 1n << 63n, BigInt(rng.nextU32())];
  const v = choices[rng.nextInt(choices.length)] & mask;
  if (width === 2) dv.setUint16(at, Number(v), true);
  else if (width === 4) dv.setUint32(at, Number(v), true);
  else dv.setBigUint64(at, v, true);
  return `edit@${at}/${width}=${v}`;
}

const clear = (reason: unknown) => typeof reason === 'string' && reason.length > 0 && !reason.includes('\n') && !/undefined|NaN|\[object/.test(reason);

/** Sends `image` as a one-rank job load from the service node's kernel to node 0; the kernel's answer. */
function loadOnce(image: Uint8Array, name: string, seed: number): { acked: boolean; text: string; process?: string } | null {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [2] }, seed });
  sys.trace.enabled = false;
  for (const p of BASES) sys.catalog.register(p);
  sys.kernel(0);
  const svc = sys.kernel(1);
  const block = encodeJobBlock({
    jobId: 1, pid: 100, fanout: { kind: 'flat' }, mode: 'one-phase', serviceNid: 1, servicePid: 0, initLen: image.length, timeoutUs: 1000, startUs: 0,
    ranges: [{ firstNid: 0, count: 1, image: 0 }], images: [{ offset: 0, length: image.length }], storeBytes: image.length, argv: [name], envp: [],
  });
  const payload = new Uint8Array(image.length + block.length);
  payload.set(image);
  payload.set(block, image.length);
  svc.jobs.send(0, svc.jobs.header('load', { dstPid: 100, srcPid: 0, rank: 0, jobId: 1, uid: 1000, imageLen: image.length, jobSize: 1, sender: SENDER.launcher }), payload);
  const replies: { type: string; text: string }[] = [];
  sys.run({ until: sys.now + 1e12, done: () => (replies.push(...svc.jobs.takeControlReplies().map((m) => ({ type: m.header.type, text: new TextDecoder().decode(m.payload) }))), replies.length > 0) });
  const r = replies[0];
  if (r === undefined) return null;
  return { acked: r.type === 'load-ack', text: r.text, process: sys.kernel(0).jobs.records.get(1)?.process.name };
}

/** `iterations` mutants; every `loadEvery`-th also goes through a real load. */
export async function fuzzImages(seed: number, iterations: number, loadEvery = 4): Promise<ImageFuzzCounts> {
  const rng = new Rng(seed);
  const c: ImageFuzzCounts = { cases: 0, unchanged: 0, rejected: 0, loadsTried: 0, loaded: 0, nacked: 0, hostExceptions: 0, violations: 0, failures: [] };
  const fail = (what: string) => {
    c.violations++;
    if (c.failures.length < 10) c.failures.push(what);
  };
  const bases = BASES.map((p) => ({ p, bytes: imageOf(p) })).map((b) => ({ ...b, fields: fields(b.bytes) }));
  const dir = mkdtempSync(join(tmpdir(), 'margay-imgfuzz-'));
  try {
    for (let i = 0; i < iterations; i++) {
      const base = bases[rng.nextInt(bases.length)];
      const m = mutate(rng, base.bytes, base.fields);
      const same = m.bytes.length === base.bytes.length && m.bytes.every((x, j) => x === base.bytes[j]);
      const tag = `case ${i} (${base.p.name}: ${m.how})`;
      c.cases++;
      if (same) c.unchanged++;
      try {
        const file = join(dir, 'img.elf');
        writeFileSync(file, m.bytes);
        const out = bufferOutput();
        const code = await imageCommand.run(['--check', file, '--json'], out);
        const doc = out.docs[0] as { ok: boolean; reason?: string; name?: string };
        if (same !== doc.ok || code !== (same ? 0 : 1)) fail(`${tag}: check says ok=${doc.ok}, exit ${code}`);
        if (!doc.ok) {
          c.rejected++;
          if (!clear(doc.reason)) fail(`${tag}: unclear reason ${JSON.stringify(doc.reason)}`);
        } else if (doc.name !== base.p.name) fail(`${tag}: accepted as '${doc.name}'`);
        if (i % loadEvery === 0) {
          c.loadsTried++;
          const r = loadOnce(m.bytes, base.p.name, seed + i);
          if (r === null) fail(`${tag}: no answer to the load`);
          else if (r.acked) {
            c.loaded++;
            if (!same || r.process !== base.p.name) fail(`${tag}: load ACKed (process ${r.process})`);
          } else {
            c.nacked++;
            if (same) fail(`${tag}: the unchanged image was NACKed: ${r.text}`);
            if (!/^(bad image: |image length )/.test(r.text) || !clear(r.text)) fail(`${tag}: NACK without a clear image reason: ${JSON.stringify(r.text)}`);
          }
        }
      } catch (e) {
        c.hostExceptions++;
        if (c.failures.length < 10) c.failures.push(`${tag}: threw ${(e as Error).stack?.split('\n').slice(0, 3).join(' | ')}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return c;
}
