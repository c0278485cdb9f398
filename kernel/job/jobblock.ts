// The kernel's reader of the job block (layout in abi.ts JOB_BLOCK): the
// service node's parameters appended to a job-load image. The kernel needs
// the job's pid, size, nid map and argv/envp to create a rank's process; it
// checks every count and offset and refuses a malformed block with a reason.

import { JOB_BLOCK as J } from '../abi.ts';

export interface JobBlock {
  readonly bytes: Uint8Array;
  readonly jobId: number;
  readonly pid: number;
  readonly size: number;
  readonly mode: number;
  /** The job's launcher (yod): the only process whose status and kill requests the job's kernels honour. */
  readonly serviceNid: number;
  readonly servicePid: number;
  /** (first nid, count, image) triples covering ranks 0..size-1 in order. */
  readonly ranges: Uint32Array;
  readonly argv: readonly string[];
  readonly envp: readonly string[];
}

/** The node and pid of every rank, from the block's ranges (no per-rank array: jobs have 100,000 ranks). */
export class RangeJobMap {
  constructor(
    private readonly ranges: Uint32Array,
    readonly length: number,
    private readonly pid: number,
  ) {}

  /** Whether some rank of the job runs on node `nid`. */
  hasNode(nid: number): boolean {
    for (let i = 0; i < this.ranges.length; i += 3) if (nid >= this.ranges[i] && nid < this.ranges[i] + this.ranges[i + 1]) return true;
    return false;
  }

  at(rank: number): { nid: number; pid: number } {
    let base = 0;
    for (let i = 0; i < this.ranges.length; i += 3) {
      const count = this.ranges[i + 1];
      if (rank < base + count) return { nid: this.ranges[i] + (rank - base), pid: this.pid };
      base += count;
    }
    return { nid: 0, pid: 0 };
  }
}

export function parseJobBlock(b: Uint8Array, nodeCount: number): { ok: true; block: JobBlock } | { ok: false; reason: string } {
  const bad = (reason: string) => ({ ok: false as const, reason: `job block: ${reason}` });
  if (b.length < J.HEADER_WORDS * 4) return bad(`${b.length} bytes, the header needs ${J.HEADER_WORDS * 4}`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const w = (i: number) => dv.getUint32(4 * i, true);
  if (w(J.W_MAGIC) !== J.MAGIC) return bad('bad magic');
  if (w(J.W_VERSION) !== J.VERSION) return bad(`version ${w(J.W_VERSION)}, expected ${J.VERSION}`);
  const total = w(J.W_TOTAL_BYTES);
  if (total !== b.length || total > J.MAX_BYTES) return bad(`says ${total} bytes, has ${b.length}`);
  const size = w(J.W_SIZE);
  const nRanges = w(J.W_RANGES);
  const nImages = w(J.W_IMAGES);
  const argc = w(J.W_ARGC);
  const envc = w(J.W_ENVC);
  const stringBytes = w(J.W_STRING_BYTES);
  if (size === 0) return bad('a job of 0 ranks');
  const rangesAt = J.HEADER_WORDS * 4;
  const stringsAt = rangesAt + 4 * (nRanges * J.RANGE_WORDS + nImages * J.IMAGE_WORDS);
  if (stringsAt + stringBytes !== total) return bad(`sections end at ${stringsAt + stringBytes}, block is ${total} bytes`);
  const ranges = new Uint32Array(nRanges * J.RANGE_WORDS);
  let covered = 0;
  for (let i = 0; i < nRanges; i++) {
    const first = dv.getUint32(rangesAt + 12 * i, true);
    const count = dv.getUint32(rangesAt + 12 * i + 4, true);
    const image = dv.getUint32(rangesAt + 12 * i + 8, true);
    if (count === 0 || first + count > nodeCount) return bad(`range ${i} (nodes ${first}..${first + count - 1}) is outside the machine`);
    if (image >= nImages) return bad(`range ${i} names image ${image} of ${nImages}`);
    ranges.set([first, count, image], 3 * i);
    covered += count;
  }
  if (covered !== size) return bad(`ranges cover ${covered} ranks, the job has ${size}`);
  const strings: string[] = [];
  let at = stringsAt;
  const end = stringsAt + stringBytes;
  const dec = new TextDecoder();
  for (let i = 0; i < argc + envc; i++) {
    const nul = b.indexOf(0, at);
    if (nul < 0 || nul >= end) return bad(`string ${i} is not terminated`);
    strings.push(dec.decode(b.subarray(at, nul)));
    at = nul + 1;
  }
  return {
    ok: true,
    block: { bytes: b, jobId: w(J.W_JOB_ID), pid: w(J.W_PID), size, mode: w(J.W_MODE), serviceNid: w(J.W_SERVICE_NID), servicePid: w(J.W_SERVICE_PID), ranges, argv: strings.slice(0, argc), envp: strings.slice(argc) },
  };
}
