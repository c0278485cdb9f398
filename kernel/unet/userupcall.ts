// The user-level upcall of interrupt-driven Active Messages (seed 001: "the
// receive upcall preempts the computation and runs the handler at user
// level"). When the NIC's upcall interrupt for an endpoint created with
// UNET_USER_UPCALL lands on the core where a thread of the owner was cut
// short in a computation, that thread resumes in its runtime's message
// handler instead of computing on; the handler polls the endpoint, then
// the thread computes the cycles it had left. A thread doing anything else
// (a syscall, a load) is not diverted: it polls when it next does.

import type { MessageUpcall } from '../abi.ts';
import type { Cpu } from '../cpu.ts';
import type { Process } from '../process.ts';
import { type KPath, step } from '../step.ts';

export function* deliverMessageUpcall(cpu: Cpu, owner: Process, endpoint: number, cycles: number): KPath {
  const t = cpu.current;
  if (t === null || t.process !== owner || t.pendingCompute <= 0 || t.userResume !== undefined) return;
  const upcall: MessageUpcall = { upcall: 'message', endpoint, remaining: t.pendingCompute };
  t.userResume = upcall;
  t.pendingCompute = 0;
  yield step('unet', 'user-upcall', cycles, `endpoint ${endpoint}: thread ${t.tid} runs its message handler, ${upcall.remaining} cycles of work left`);
}
