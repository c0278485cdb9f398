// The syscall trap path: entry (save the user context, switch to kernel
// mode), dispatch through the table, the handler's own steps, exit (rax
// holds the result or -errno). Unknown numbers return -ENOSYS. A host error
// inside a handler is a kernel oops, reported and contained.

import type { CoreContext, KernelContext } from './context.ts';
import { ERRNO, SyscallError, errnoName } from './errno.ts';
import type { Thread } from './process.ts';
import { type KPath, type KStep, step } from './step.ts';

/**
 * The trap's steps when no trace detail is wanted: the same on every syscall
 * of a profile, so made once per profile (and per syscall name for the
 * dispatch step) rather than three objects per syscall. Steps are read, never
 * changed or kept, by the core that runs the path.
 */
interface TrapSteps {
  readonly entry: KStep;
  readonly exit: KStep;
  readonly dispatch: Map<string, KStep>;
}
const TRAP_STEPS = new WeakMap<object, TrapSteps>();

function trapSteps(v: KernelContext['profile']['values']): TrapSteps {
  let s = TRAP_STEPS.get(v);
  if (s === undefined) {
    s = { entry: step('syscall', 'entry', v['kernel.trapEntryCycles']), exit: step('syscall', 'exit', v['kernel.trapExitCycles']), dispatch: new Map() };
    TRAP_STEPS.set(v, s);
  }
  return s;
}

function dispatchStep(s: TrapSteps, v: KernelContext['profile']['values'], name: string): KStep {
  let d = s.dispatch.get(name);
  if (d === undefined) s.dispatch.set(name, (d = step('syscall', 'dispatch', v['kernel.syscallDispatchCycles'], name)));
  return d;
}

export function* syscallPath(k: KernelContext, cpu: CoreContext, t: Thread): KPath {
  const core = cpu.core;
  const v = k.profile.values;
  const nrRaw = core.get('rax');
  // The arguments: rdi, rsi, rdx, r10, r8, r9.
  const args = [core.get('rdi'), core.get('rsi'), core.get('rdx'), core.get('r10'), core.get('r8'), core.get('r9')];
  // The syscall instruction saves rip in rcx and rflags in r11.
  core.copy('rcx', 'rip');
  core.copy('r11', 'rflags');
  k.stats.syscalls++;
  // The steps' detail text is built only when someone keeps or matches trace records.
  const steps = trapSteps(v);
  yield k.recording ? step('syscall', 'entry', v['kernel.trapEntryCycles'], `nr ${nrRaw}`) : steps.entry;
  const entry = nrRaw <= 0xffffn ? k.syscallEntry(Number(nrRaw)) : undefined;
  yield entry !== undefined ? dispatchStep(steps, v, entry.name) : step('syscall', 'dispatch', v['kernel.syscallDispatchCycles'], k.recording ? `unknown ${nrRaw}` : '');
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
    yield steps.exit;
    return;
  }
  const shown = ret < 0n && ret > -4096n ? `-${errnoName(Number(-ret))}` : ret.toString();
  yield step('syscall', 'exit', v['kernel.trapExitCycles'], `${entry?.name ?? nrRaw} = ${shown}`);
}
