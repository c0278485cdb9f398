import { describe, expect, it } from 'vitest';
import { ERRNO, SYS } from '../../userland/lib/abi.gen.ts';
import { APPS } from '../../userland/apps/index.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot, runMain, runProgram } from './helpers.ts';

describe('the syscall trap path', () => {
  it('goes entry, dispatch, handler, exit, and returns the result in rax', () => {
    const { sys, results } = runMain(function* (env) {
      yield* env.sys.publish('pid', yield* env.sys.getpid());
    });
    expect(results.pid).toBe(1);
    const recs = sys.trace.last().filter((r) => r.path === 'syscall');
    const i = recs.findIndex((r) => r.step === 'dispatch' && r.detail === 'getpid');
    expect(recs.slice(i - 1, i + 3).map((r) => r.step)).toEqual(['entry', 'dispatch', 'getpid', 'exit']);
    expect(recs[i + 2].detail).toBe('getpid = 1');
  });

  it('charges the same simulated time whether or not trace records are kept', () => {
    const run = (trace: boolean) => {
      const sys = boot({ trace });
      const prog = program('t', function* (env) {
        for (let i = 0; i < 50; i++) yield* env.sys.getpid();
        yield* env.sys.publish('bad', yield* env.sys.raw(333));
      });
      const r = runProgram(sys, prog);
      return { ended: r.p.endedAt, syscalls: sys.kernel(0).stats.syscalls, bad: r.results.bad };
    };
    const traced = run(true);
    expect(run(false)).toEqual(traced);
    expect(traced.bad).toBe(-ERRNO.ENOSYS);
  });

  it('returns -ENOSYS for a number not in the table, at any size', () => {
    const { results } = runMain(function* (env) {
      yield* env.sys.publish('a', yield* env.sys.raw(333));
      yield* env.sys.publish('b', yield* env.sys.raw(2 ** 40));
      yield* env.sys.publish('c', Number(yield* env.sys.raw(-1)));
    });
    expect(results).toEqual({ a: -ERRNO.ENOSYS, b: -ERRNO.ENOSYS, c: -ERRNO.ENOSYS });
  });

  it('gives -EFAULT for a pointer that is unmapped, in the kernel half, or read-only when written', () => {
    const { results } = runMain(function* (env) {
      yield* env.sys.publish('unmapped', yield* env.sys.write(1, 0x1000, 8));
      yield* env.sys.publish('kernel', yield* env.sys.raw(SYS.write, 1, 0xffff_8000_0000_0000n, 8));
      // clock_gettime writes its result: into the text region, which is read-only.
      yield* env.sys.publish('readonly', yield* env.sys.raw(SYS.clock_gettime, 1, 0x40_0000));
      // a buffer that runs off the end of a mapping
      const brk = yield* env.sys.brk(0);
      yield* env.sys.publish('straddle', yield* env.sys.write(1, brk + 64 * 1024 * 1024 - 4, 8));
    });
    expect(results).toEqual({ unmapped: -ERRNO.EFAULT, kernel: -ERRNO.EFAULT, readonly: -ERRNO.EFAULT, straddle: -ERRNO.EFAULT });
  });

  it('passes every check of the syscall exerciser app', () => {
    const { p, results } = runProgram(boot({ cores: 2 }), APPS.sysexercise);
    expect(p.stderr.join('')).toBe('');
    expect(results.checks_failed).toBe(0);
    expect(results.checks_passed).toBeGreaterThanOrEqual(40);
    expect(p.exitStatus).toBe(0);
  });

  it('keeps console output per process, fd 1 and 2 apart', () => {
    const { p } = runMain(function* (env) {
      yield* env.sys.print('out\n');
      yield* env.sys.print('err\n', 2);
    });
    expect(p.stdout.join('')).toBe('out\n');
    expect(p.stderr.join('')).toBe('err\n');
  });

  it('lets a driver replace a syscall at boot (syscall_register)', () => {
    const sys = boot();
    const k = sys.kernel(0);
    k.registerSyscall('getpid', function* () {
      return 4242;
    });
    // A program written directly against registers, without the library.
    const { p } = runProgram(sys, {
      name: 'bare',
      textBytes: 4096,
      dataBytes: 0,
      bssBytes: 0,
      instantiate: () =>
        function* (cpu) {
          cpu.set('rax', SYS.getpid);
          yield { op: 'syscall' };
          const v = cpu.get('rax');
          cpu.set('rax', SYS.exit_group);
          cpu.set('rdi', v === 4242n ? 0 : 1);
          yield { op: 'syscall' };
        },
    });
    expect(p.exitStatus).toBe(0);
  });

  it('shares one syscall and vector table among kernels that registered the same handlers, and keeps a replacement to its own kernel', () => {
    const sys = boot({ nodes: 2 });
    const a = sys.kernel(0);
    const b = sys.kernel(1);
    expect(a.syscallEntry(SYS.getpid)).toBe(b.syscallEntry(SYS.getpid));
    expect(a.registeredSyscalls()).toEqual(b.registeredSyscalls());
    a.registerSyscall('getpid', function* () {
      return 4242;
    });
    expect(a.syscallEntry(SYS.getpid)).not.toBe(b.syscallEntry(SYS.getpid));
    expect(a.syscallEntry(SYS.write)).toBe(b.syscallEntry(SYS.write));
    // Rank 0 runs on node 0 (the replacement), rank 1 on node 1.
    const { job } = runProgram(
      sys,
      {
        name: 'bare',
        textBytes: 4096,
        dataBytes: 0,
        bssBytes: 0,
        instantiate: () =>
          function* (cpu) {
            cpu.set('rax', SYS.getpid);
            yield { op: 'syscall' };
            const v = cpu.get('rax');
            cpu.set('rax', SYS.exit_group);
            cpu.set('rdi', v === 4242n ? 42 : 7);
            yield { op: 'syscall' };
          },
      },
      2,
    );
    expect(job.ranks.map((r) => r.process?.exitStatus)).toEqual([42, 7]);
  });
});
