// The job block from the user side: yod writes it (the service node's nid
// map and parameters appended to the init image) and crt0 reads it from the
// bottom of BSS. The layout is the kernel's (JOB_BLOCK in abi.gen.ts).

import { JOB_BLOCK as J } from './abi.gen.ts';

export type Fanout = { readonly kind: 'flat' } | { readonly kind: 'flat-concurrent' } | { readonly kind: 'tree'; readonly arity: number } | { readonly kind: 'binomial' };
/** two-phase and one-phase: the OSR loader (docs/LOADING.md); crtc: Mach-style remote tasking (docs/REMOTE-TASKING.md). */
export type LoadMode = 'two-phase' | 'one-phase' | 'crtc';

/** Ranks firstRank.. on nodes firstNid.. run image `image`. */
export interface NidRange {
  readonly firstNid: number;
  readonly count: number;
  readonly image: number;
}

export interface JobParams {
  readonly jobId: number;
  readonly pid: number;
  readonly fanout: Fanout;
  readonly mode: LoadMode;
  readonly serviceNid: number;
  readonly servicePid: number;
  /** Bytes of the init image the block follows (two-phase) or of the executable (one-phase). */
  readonly initLen: number;
  readonly timeoutUs: number;
  readonly startUs: number;
  readonly ranges: readonly NidRange[];
  /** Where each executable lies in the image store (the same offsets on every node). */
  readonly images: readonly { readonly offset: number; readonly length: number }[];
  readonly storeBytes: number;
  readonly argv: readonly string[];
  readonly envp: readonly string[];
}

export interface JobInfo extends JobParams {
  readonly size: number;
  /** Bytes of the block itself. */
  readonly bytes: number;
}

const FANOUT_CODE = { flat: J.FANOUT_FLAT, 'flat-concurrent': J.FANOUT_FLAT_CONCURRENT, tree: J.FANOUT_TREE, binomial: J.FANOUT_BINOMIAL } as const;

export function encodeJobBlock(p: JobParams): Uint8Array {
  const enc = new TextEncoder();
  const strings = [...p.argv, ...p.envp].map((s) => enc.encode(s + '\0'));
  const stringBytes = strings.reduce((a, s) => a + s.length, 0);
  const words = J.HEADER_WORDS + p.ranges.length * J.RANGE_WORDS + p.images.length * J.IMAGE_WORDS;
  const total = 4 * words + stringBytes;
  const b = new Uint8Array(total);
  const dv = new DataView(b.buffer);
  const w = (i: number, v: number) => dv.setUint32(4 * i, v, true);
  w(J.W_MAGIC, J.MAGIC);
  w(J.W_VERSION, J.VERSION);
  w(J.W_TOTAL_BYTES, total);
  w(J.W_JOB_ID, p.jobId);
  w(J.W_PID, p.pid);
  w(J.W_SIZE, p.ranges.reduce((a, r) => a + r.count, 0));
  w(J.W_FANOUT, FANOUT_CODE[p.fanout.kind]);
  w(J.W_ARITY, p.fanout.kind === 'tree' ? p.fanout.arity : 0);
  w(J.W_MODE, p.mode === 'one-phase' ? J.MODE_ONE_PHASE : p.mode === 'crtc' ? J.MODE_CRTC : J.MODE_TWO_PHASE);
  w(J.W_SERVICE_NID, p.serviceNid);
  w(J.W_SERVICE_PID, p.servicePid);
  w(J.W_INIT_LEN, p.initLen);
  w(J.W_TIMEOUT_US, p.timeoutUs);
  w(J.W_START_US, p.startUs);
  w(J.W_RANGES, p.ranges.length);
  w(J.W_IMAGES, p.images.length);
  w(J.W_ARGC, p.argv.length);
  w(J.W_ENVC, p.envp.length);
  w(J.W_STRING_BYTES, stringBytes);
  w(J.W_STORE_BYTES, p.storeBytes);
  let at = J.HEADER_WORDS;
  for (const r of p.ranges) {
    w(at++, r.firstNid);
    w(at++, r.count);
    w(at++, r.image);
  }
  for (const im of p.images) {
    w(at++, im.offset);
    w(at++, im.length);
  }
  let s = 4 * at;
  for (const str of strings) {
    b.set(str, s);
    s += str.length;
  }
  return b;
}

/** Decodes a job block already checked by the kernel (it refuses malformed ones). */
export function decodeJobBlock(b: Uint8Array): JobInfo {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const w = (i: number) => dv.getUint32(4 * i, true);
  if (w(J.W_MAGIC) !== J.MAGIC) throw new Error('no job block');
  const fanoutCode = w(J.W_FANOUT);
  const fanout: Fanout =
    fanoutCode === J.FANOUT_FLAT ? { kind: 'flat' } : fanoutCode === J.FANOUT_FLAT_CONCURRENT ? { kind: 'flat-concurrent' } : fanoutCode === J.FANOUT_TREE ? { kind: 'tree', arity: w(J.W_ARITY) } : { kind: 'binomial' };
  const ranges: NidRange[] = [];
  let at = J.HEADER_WORDS;
  for (let i = 0; i < w(J.W_RANGES); i++, at += J.RANGE_WORDS) ranges.push({ firstNid: w(at), count: w(at + 1), image: w(at + 2) });
  const images: { offset: number; length: number }[] = [];
  for (let i = 0; i < w(J.W_IMAGES); i++, at += J.IMAGE_WORDS) images.push({ offset: w(at), length: w(at + 1) });
  const strings = new TextDecoder().decode(b.subarray(4 * at, 4 * at + w(J.W_STRING_BYTES))).split('\0');
  const argc = w(J.W_ARGC);
  return {
    bytes: w(J.W_TOTAL_BYTES),
    jobId: w(J.W_JOB_ID),
    pid: w(J.W_PID),
    size: w(J.W_SIZE),
    fanout,
    mode: w(J.W_MODE) === J.MODE_ONE_PHASE ? 'one-phase' : w(J.W_MODE) === J.MODE_CRTC ? 'crtc' : 'two-phase',
    serviceNid: w(J.W_SERVICE_NID),
    servicePid: w(J.W_SERVICE_PID),
    initLen: w(J.W_INIT_LEN),
    timeoutUs: w(J.W_TIMEOUT_US),
    startUs: w(J.W_START_US),
    ranges,
    images,
    storeBytes: w(J.W_STORE_BYTES),
    argv: strings.slice(0, argc),
    envp: strings.slice(argc, argc + w(J.W_ENVC)),
  };
}

/** The node and image of `rank` in a job's ranges. */
export function placeOf(ranges: readonly NidRange[], rank: number): { nid: number; image: number } {
  let base = 0;
  for (const r of ranges) {
    if (rank < base + r.count) return { nid: r.firstNid + (rank - base), image: r.image };
    base += r.count;
  }
  throw new RangeError(`rank ${rank} is outside the job`);
}

export function parseFanout(text: string): Fanout | null {
  if (text === 'flat' || text === 'flat-concurrent' || text === 'binomial') return { kind: text };
  const m = /^tree:(\d+)$/.exec(text);
  if (m && Number(m[1]) >= 1 && Number(m[1]) <= 1024) return { kind: 'tree', arity: Number(m[1]) };
  return null;
}

export function formatFanout(f: Fanout): string {
  return f.kind === 'tree' ? `tree:${f.arity}` : f.kind;
}
