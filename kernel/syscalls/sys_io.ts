// read(2) and the LWK publish call. Compute nodes have no file system: fd 0
// reads as empty; write(2) belongs to the console driver (console.ts).

import { fail } from '../errno.ts';
import { type KPath, step } from '../step.ts';
import { copyin } from '../uaccess.ts';
import { type SyscallCtx, argInt, argPtr, argSize } from './context.ts';

export function* sys_read(c: SyscallCtx): KPath<number> {
  const fd = argInt(c, 0);
  argPtr(c, 1);
  argSize(c, 2);
  if (fd !== 0) fail('EBADF', `fd ${fd} is not open for reading`);
  yield step('syscall', 'read', c.k.profile.values['kernel.syscallWorkCycles'], 'console input is empty');
  return 0;
}

const NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

export function* sys_lwk_publish(c: SyscallCtx): KPath<number> {
  const ptr = argPtr(c, 0);
  const len = argSize(c, 1);
  const kind = argInt(c, 3);
  if (len < 1 || len > 64) fail('EINVAL', 'result names are 1..64 characters');
  const name = new TextDecoder().decode(yield* copyin(c.k, c.cpu, c.p, ptr, len));
  if (!NAME.test(name)) fail('EINVAL', 'result names use letters, digits and _ . : -');
  let value: number;
  if (kind === 0) value = Number(BigInt.asIntN(64, c.args[2]));
  else if (kind === 1) {
    const dv = new DataView(new ArrayBuffer(8));
    dv.setBigUint64(0, c.args[2], true);
    value = dv.getFloat64(0, true);
  } else fail('EINVAL', `unknown value kind ${kind}`);
  c.p.results.set(name, value);
  yield step('syscall', 'publish', c.k.profile.values['kernel.syscallWorkCycles'], `${name} = ${value}`);
  return 0;
}
