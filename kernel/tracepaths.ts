// The names of the kernel paths that take steps: a definition table the
// kernel, the simulator's breakpoints, the console and the docs all read.

import { UNET_STEP_NAMES } from '../hw/unet/endpoint.ts';

/**
 * Every kernel path that takes steps, with what it covers: the one list of
 * trace path names. A step, a trace record, a breakpoint pattern and a trace
 * filter name one of these; docs/MONITOR.md's list is generated from it.
 */
export const TRACE_PATHS = {
  boot: 'the kernel finished booting its node',
  syscall: 'the syscall trap: entry, dispatch to the handler, exit, and the small calls done in the trap',
  uaccess: 'copies between user memory and the kernel (copyin, copyout)',
  mm: 'address-space changes: mmap, mprotect, unmap, brk',
  fault: 'page faults: entry, decode, a user-level handler (upcall), kill',
  proc: 'processes and threads: spawn, clone, exit, exit_group',
  sched: 'the scheduler: context switch, quantum, yield, urgent wake, resched IPI',
  spin: 'a core waiting in the kernel until a condition holds (the step names what)',
  timer: 'the APIC timer: sleep, expiry',
  futex: 'futex wait and wake',
  irq: 'interrupt entry, EOI and unhandled vectors',
  ipi: 'inter-processor interrupts sent',
  nmi: 'non-maskable interrupts: entry, handler, exit',
  xcall: 'cross-calls: send, run on the target, done',
  tlb: 'TLB flushes, invlpg and shootdowns',
  portals: 'Portals: send, match, deposit, atomics, acks, replies, events, triggers, search',
  ext: 'eBPF extensions: attach, reject, run, single instructions',
  jobctl: 'kernel messages (job control): send, receive, status, kill, exit fan-in, phases',
  jobload: 'job load: image verify, create, ack, nack, exec, image check',
  unet: 'U-Net set-up: endpoint create and destroy, channel open and close, kernel control messages, upcalls (and the user-level message upcall), unet_wait',
  'unet-nic': `U-Net on the NIC (no core involved), one event and one stop each: ${UNET_STEP_NAMES.join(', ')}`,
  dsm: 'the kernel DSM: fault, request, serve, invalidate, grant, resume; lock, barrier, create, attach, detach; fail, drop, undeliverable',
  rtask: 'remote tasking: template, task and area creation (ntc steps, crtc batch), paging-path attach and detach, No More Senders updates, start, terminate, object tear-down',
  cor: 'copy-on-reference paging: fault, request to the pager, serve, arrive (kept), install, resume, kill',
  ipc: 'distributed IPC (kernel/ipc/): transport send, queue (NORMA stop-and-wait), receive, ack, nack, deliver, drop, undeliverable; service requests and refusals; port messages, rights, No More Senders (nms) updates and notifications',
  console: 'console output',
  oops: 'a host exception inside a kernel path (a kernel bug): the process dies',
} as const;

export type TracePath = keyof typeof TRACE_PATHS;

/** Whether `name` is a kernel path that takes steps. */
export function isTracePath(name: string): name is TracePath {
  return Object.hasOwn(TRACE_PATHS, name);
}
