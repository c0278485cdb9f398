// The syscall trap path: entry (save the user context, switch to kernel
// mode), dispatch through the table, the handler's own steps, exit (rax
// holds the result or -errno). Unknown numbers return -ENOSYS. A host error
// inside a handler is a kernel oops, reported and contained.

import type { CoreContext, KernelContext } from './context.ts';
import { ERRNO, SyscallError, errnoName } from './errno.ts';
import type { Thread } from './process.ts';
import { type KPath, step } from './step.ts';

const ARG_REGS = ['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'] as const;

export function* syscallPath(k: KernelContext, cpu: CoreContext, t: Thread): KPath {
  const core = cpu.core;
  const v = k.profile.values;
  const nrRaw = core.get('rax');
  const args = ARG_REGS.map((r) => core.get(r));
  // The syscall instruction saves rip in rcx and rflags in r11.
  core.set('rcx', core.get('rip'));
  core.set('r11', core.get('rflags'));
  k.stats.syscalls++;
  // The steps' detail text is built only when someone keeps or matches trace records.
  yield step('syscall', 'entry', v['kernel.trapEntryCycles'], k.recording ? `nr ${nrRaw}` : '');
  const entry = nrRaw <= 0xffffn ? k.syscallEntry(Number(nrRaw)) : undefined;
  yield step('syscall', 'dispatch', v['kernel.syscallDispatchCycles'], entry ? entry.name : k.recording ? `unknown ${nrRaw}` : '');
  let ret: bigint;
  if (entry === undefined) ret = -BigInt(ERRNO.ENOSYS);
  else {
    try {
      ret = BigInt(yield* entry.run(k, cpu, t, args));
    } catch (e) {
      if (!(e instanceof SyscallError)) {
        k.oops(cpu, t, e);
        return;
      }
      ret = -BigInt(e.errno);
    }
  }
  if (t.state === 'dead') return;
  core.set('rax', ret);
  if (!k.recording) {
    yield step('syscall', 'exit', v['kernel.trapExitCycles'], '');
    return;
  }
  const shown = ret < 0n && ret > -4096n ? `-${errnoName(Number(-ret))}` : ret.toString();
  yield step('syscall', 'exit', v['kernel.trapExitCycles'], `${entry?.name ?? nrRaw} = ${shown}`);
}
