// Launching a job the way an LWK does: build the ELF images (init and the
// executable), put them on the service node's "disk" (yod's data segment),
// register their code with the machine's catalog, and start yod on the
// service node with the job's parameters. Two-phase by default; one-phase
// sends the executable (init linked in) in the job-load message itself;
// crtc has yod create the ranks by remote tasking from the executable.

import type { UserProgram } from '../kernel/abi.ts';
import { buildImage } from '../kernel/job/image.ts';
import type { Job, JobRange, OnFailure, System } from '../system/system.ts';
import init from '../userland/init/init.ts';
import { type Fanout, type LoadMode, formatFanout } from '../userland/lib/jobblock.ts';
import { DEFAULT_RTASK, type RtaskChoice, formatRtask } from '../userland/lib/rtask.ts';
import { yodProgram } from '../userland/yod/yod.ts';

/** Every rank of a loaded job runs with this pid (Portals addresses it as nid, pid on every node). */
const JOB_PID = 100;

export interface LaunchOptions {
  readonly load: LoadMode;
  readonly fanout: Fanout;
  /** The executables: one, or several for a heterogeneous load. */
  readonly programs: readonly UserProgram[];
  /** Where the ranks go (nodes and which program); default: ranks on nodes 0.. with program 0. */
  readonly map: readonly JobRange[];
  readonly argv: readonly string[];
  readonly timeoutUs: number;
  readonly jobId?: number;
  /** Corrupt one byte of the executable on the service node's disk (a fault switch for tests and demos). */
  readonly corruptImageByte?: number;
  /** --load crtc: the algorithm, shapes and template (docs/REMOTE-TASKING.md). */
  readonly rtask?: RtaskChoice;
  /** crtc: terminate the tasks as soon as they exist instead of starting them (the termination experiment). */
  readonly terminate?: boolean;
  /** A rank failed: yod ends the job (default) or lets the other ranks run on. */
  readonly onFailure?: OnFailure;
}

/** The ELF image of a program built with program() (its text bytes are what the kernel finds its code by). */
export function imageOf(p: UserProgram): Uint8Array {
  if (p.text === undefined) throw new Error(`program ${p.name} has no text bytes (build it with program() from userland/lib/runtime.ts)`);
  return buildImage({ name: p.name, text: p.text, textBytes: p.textBytes, data: p.data ?? new Uint8Array(0), dataBytes: p.dataBytes, bssBytes: p.bssBytes });
}

export function launch(sys: System, o: LaunchOptions): Job {
  const serviceNid = sys.machine.size - 1;
  if (o.map.some((r) => r.firstNid + r.count > serviceNid)) throw new RangeError(`ranks must stay off the service node (node ${serviceNid})`);
  if (o.load === 'one-phase' && o.programs.length > 1) throw new RangeError('a one-phase load runs one executable (init is linked into it)');
  if (o.load === 'crtc' && o.programs.length > 1) throw new RangeError('remote tasking creates every task from one template (one executable)');
  const images = o.programs.map((p) => {
    sys.catalog.register(p);
    return imageOf(p);
  });
  sys.catalog.register(init);
  const loadImage = o.load === 'two-phase' ? imageOf(init) : images[0];
  // The store: every executable at a 4 KiB-aligned offset, the same on every node.
  const offsets: number[] = [];
  let storeBytes = 0;
  for (const im of images) {
    offsets.push(storeBytes);
    storeBytes += Math.ceil(im.length / 4096) * 4096;
  }
  const disk = new Uint8Array(loadImage.length + storeBytes);
  disk.set(loadImage, 0);
  images.forEach((im, i) => disk.set(im, loadImage.length + offsets[i]));
  if (o.corruptImageByte !== undefined) {
    const at = loadImage.length + Math.min(o.corruptImageByte, images[0].length - 1);
    disk[at] ^= 0x40;
  }
  const jobId = o.jobId ?? 1;
  const argv = [
    '--job-id', String(jobId),
    '--pid', String(JOB_PID),
    '--fanout', formatFanout(o.fanout),
    '--mode', o.load,
    '--map', o.map.map((r) => `${r.firstNid}:${r.count}:${r.image}`).join(','),
    '--images', images.map((im, i) => `${offsets[i]}:${im.length}`).join(','),
    '--load-len', String(loadImage.length),
    '--timeout-us', String(o.timeoutUs),
    ...(o.load === 'crtc' ? ['--rtask', formatRtask(o.rtask ?? DEFAULT_RTASK)] : []),
    ...(o.terminate === true ? ['--then', 'terminate'] : []),
    // yod's default is end: the argument is given only to keep the other ranks running.
    ...(o.onFailure === 'continue' ? ['--on-failure', 'continue'] : []),
    '--',
    o.programs[o.map[0]?.image ?? 0].name,
    ...o.argv,
  ];
  return sys.launchLoaded(yodProgram(disk), { program: o.programs.map((p) => p.name).join('+'), load: o.load, jobId, serviceNid, map: o.map, argv, onFailure: o.onFailure ?? 'end' });
}
