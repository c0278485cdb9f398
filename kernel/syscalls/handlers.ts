// The handlers of the core kernel, by table name. write(2) is not here: the
// console driver registers it at boot.

import type { SyscallName } from './table.ts';
import type { SyscallHandler } from './context.ts';
import { sys_futex } from './sys_futex.ts';
import { sys_lwk_exec, sys_lwk_image_check, sys_lwk_job_phase, sys_lwk_kmsg_recv, sys_lwk_kmsg_send } from './sys_job.ts';
import { sys_lwk_publish, sys_read } from './sys_io.ts';
import { sys_brk, sys_lwk_aspace_regions, sys_lwk_set_fault_handler, sys_lwk_tlb_stats, sys_mmap, sys_mprotect, sys_munmap } from './sys_mem.ts';
import {
  sys_clone,
  sys_exit,
  sys_exit_group,
  sys_getpid,
  sys_gettid,
  sys_lwk_getcpu,
  sys_lwk_getnid,
  sys_lwk_getrank,
  sys_lwk_getsize,
  sys_lwk_job_map,
  sys_lwk_task_info,
} from './sys_proc.ts';
import { sys_clock_gettime, sys_lwk_sched_urgent, sys_nanosleep, sys_sched_yield } from './sys_time.ts';

export type { SyscallHandler };

export const HANDLERS: Partial<Record<SyscallName, SyscallHandler>> = {
  read: sys_read,
  mmap: sys_mmap,
  mprotect: sys_mprotect,
  munmap: sys_munmap,
  brk: sys_brk,
  sched_yield: sys_sched_yield,
  nanosleep: sys_nanosleep,
  getpid: sys_getpid,
  clone: sys_clone,
  exit: sys_exit,
  gettid: sys_gettid,
  futex: sys_futex,
  clock_gettime: sys_clock_gettime,
  exit_group: sys_exit_group,
  lwk_getcpu: sys_lwk_getcpu,
  lwk_getnid: sys_lwk_getnid,
  lwk_getrank: sys_lwk_getrank,
  lwk_getsize: sys_lwk_getsize,
  lwk_aspace_regions: sys_lwk_aspace_regions,
  lwk_task_info: sys_lwk_task_info,
  lwk_set_fault_handler: sys_lwk_set_fault_handler,
  lwk_publish: sys_lwk_publish,
  lwk_tlb_stats: sys_lwk_tlb_stats,
  lwk_job_map: sys_lwk_job_map,
  lwk_sched_urgent: sys_lwk_sched_urgent,
  lwk_kmsg_send: sys_lwk_kmsg_send,
  lwk_kmsg_recv: sys_lwk_kmsg_recv,
  lwk_exec: sys_lwk_exec,
  lwk_job_phase: sys_lwk_job_phase,
  lwk_image_check: sys_lwk_image_check,
};
