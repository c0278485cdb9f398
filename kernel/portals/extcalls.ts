// The extension system calls: ext_attach verifies a handler (raw bytecode,
// an ELF object from clang -target bpf, or assembly text in the conformance
// suite's syntax, which the kernel assembles) against the portals-rx hook and
// attaches it to one of the caller's MEs/LEs; ext_stats reports on it. A
// rejected handler is -EINVAL with the verifier's reason (instruction index
// and why) copied into the caller's error buffer.

import { DecodeError } from '../ext/isa.ts';
import { ElfError, loadElf } from '../ext/elf.ts';
import { load } from '../ext/loader.ts';
import { VerifyError } from '../ext/verifier.ts';
import { ERRNO, fail } from '../errno.ts';
import { AsmError, assemble } from '../ext/asm.ts';
import type { Kernel } from '../kernel.ts';
import { type KPath, step } from '../step.ts';
import { type SyscallCtx, argInt, argPtr } from '../syscalls/context.ts';
import { copyin, copyout, i64bytes } from '../uaccess.ts';
import { portalsRxHook } from './extension.ts';
import { handleKind } from './objects.ts';
import { Pin } from '../pin.ts';

const { EINVAL, EACCES } = ERRNO;
const MAX_CODE = 1 << 20;
const MAX_PAYLOAD = 64 * 1024;
const MAX_GRANT = 64 * 1024;

function* words(c: SyscallCtx, va: number, n: number): KPath<number[]> {
  const b = yield* copyin(c.k, c.cpu, c.p, va, 8 * n);
  const dv = new DataView(b.buffer);
  return Array.from({ length: n }, (_, i) => {
    const w = dv.getBigUint64(8 * i, true);
    return w > BigInt(Number.MAX_SAFE_INTEGER) ? Number.NaN : Number(w);
  });
}

/** The verifier's work, charged to the caller whether it accepted the program or refused it. */
function verifyCycles(c: SyscallCtx, steps: number): number {
  return steps * c.k.profile.values['kernel.verifyStepCycles'];
}

function* reject(c: SyscallCtx, errPtr: number, errLen: number, message: string, errno = -EINVAL, steps = 0): KPath<number> {
  if (errPtr !== 0 && errLen > 0) {
    const text = new TextEncoder().encode(message).subarray(0, errLen - 1);
    const out = new Uint8Array(text.length + 1);
    out.set(text);
    try {
      yield* copyout(c.k, c.cpu, c.p, errPtr, out);
    } catch {
      // The reason cannot be delivered; the error code still is.
    }
  }
  yield step('ext', 'reject', c.k.profile.values['kernel.syscallWorkCycles'] + verifyCycles(c, steps), message);
  return errno;
}

function* extAttach(c: SyscallCtx): KPath<number> {
  const [codePtr, codeLen, format, secPtr, secLen, meHandle, regionPtr, regionLen, payloadMax, engine, errPtr, errLen] = yield* words(c, argPtr(c, 0), 12);
  const bad = (msg: string) => reject(c, errPtr, errLen, msg);
  if (!(codeLen > 0 && codeLen <= MAX_CODE)) return yield* bad(`code length ${codeLen} is not 1..${MAX_CODE} bytes`);
  if (!(payloadMax >= 0 && payloadMax <= MAX_PAYLOAD)) return yield* bad(`payload_max ${payloadMax} is not 0..${MAX_PAYLOAD}`);
  if (!(regionLen >= 0 && regionLen <= MAX_GRANT)) return yield* bad(`region length ${regionLen} is not 0..${MAX_GRANT}`);
  if (engine !== 0 && engine !== 1) return yield* bad(`engine ${engine} is not 0 (interpreter) or 1 (compiled)`);
  let code = yield* copyin(c.k, c.cpu, c.p, codePtr, codeLen);
  if (format === 1) {
    const section = secLen > 0 ? new TextDecoder().decode(yield* copyin(c.k, c.cpu, c.p, secPtr, Math.min(secLen, 256))) : undefined;
    try {
      code = loadElf(code, section).bytes;
    } catch (e) {
      if (e instanceof ElfError) return yield* bad(e.message);
      throw e;
    }
  } else if (format === 2) {
    try {
      code = assemble(new TextDecoder().decode(code));
    } catch (e) {
      if (e instanceof AsmError) return yield* bad(`assembler: ${e.message}`);
      throw e;
    }
  } else if (format !== 0) return yield* bad(`format ${format} is not 0 (bytecode), 1 (ELF) or 2 (assembly text)`);
  const pp = c.k.portals.state(c.p);
  const ni = pp.owner(meHandle);
  const kind = handleKind(meHandle);
  const entry = ni !== null && (kind === 'me' || kind === 'le') ? ni.entries.get(meHandle) : undefined;
  if (ni === null || entry === undefined) return yield* bad(`0x${meHandle.toString(16)} is not one of your match entries`);
  const grant = regionLen > 0 ? c.k.portals.physical(c.p, regionPtr, regionLen) : [];
  if (grant === null) fail('EFAULT', 'granted region is not mapped');
  // Handlers write their grant (stores, atomic_add): the owner must be able to write it too.
  if (regionLen > 0 && c.k.portals.physical(c.p, regionPtr, regionLen, true) === null) return yield* reject(c, errPtr, errLen, 'granted region is not writable', -EACCES);
  let prog;
  try {
    prog = load(code, portalsRxHook(payloadMax, regionLen), new Map());
  } catch (e) {
    if (e instanceof VerifyError) return yield* reject(c, errPtr, errLen, `rejected: ${e.message}`, -EINVAL, e.steps);
    if (e instanceof DecodeError) return yield* bad(`rejected: ${e.message}`);
    throw e;
  }
  const id = c.k.portals.newExtensionId();
  const grantPin = Pin.of(c.k.phys, grant!);
  const ext = { id, prog, engine: engine === 1 ? ('jit' as const) : ('interp' as const), owner: pp, ni, payloadMax, grant: grant!, grantLen: regionLen, grantPin, grantWritable: true, stats: { runs: 0, insns: 0, drops: 0, forwards: 0, faults: 0 }, stepping: c.k.host.extStepping, lastVm: null };
  // A handler replaced on its entry can no longer run: its grant goes back to its owner.
  entry.ext?.grantPin.release();
  entry.ext = ext;
  c.k.portals.extensions.set(id, ext);
  yield step('ext', 'attach', c.k.profile.values['kernel.syscallWorkCycles'] + verifyCycles(c, prog.verification.steps), `ext ${id}: ${prog.prog.length} insns verified in ${prog.verification.steps} steps, on ${kind} 0x${meHandle.toString(16)}`);
  return id;
}

function* extStats(c: SyscallCtx): KPath<number> {
  const ext = c.k.portals.extensions.get(argInt(c, 0));
  if (ext === undefined || ext.owner.process !== c.p) fail('EINVAL', 'no such extension of yours');
  const s = ext.stats;
  yield* copyout(c.k, c.cpu, c.p, argPtr(c, 1), i64bytes(s.runs, s.insns, s.drops, s.forwards, s.faults));
  return 0;
}

export function registerExtensions(k: Kernel): void {
  k.registerSyscall('ext_attach', extAttach);
  k.registerSyscall('ext_stats', extStats);
}
