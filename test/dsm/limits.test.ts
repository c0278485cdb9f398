// Kernel DSM bounds a member of the job cannot push past: a manager keeps at
// most LOCKS_PER_MANAGER locks in use per region (a request for one more is
// -ENOSPC, and a lock given back leaves the table), and openDsm refuses a
// size that is no whole number with the DsmError the docs promise.
import { describe, expect, it } from 'vitest';
import { MAX_DSM_BYTES } from '../../kernel/dsm/calls.ts';
import { LOCKS_PER_MANAGER } from '../../kernel/dsm/sync.ts';
import { ERRNO, SYS } from '../../userland/lib/abi.gen.ts';
import { DsmError, openDsm } from '../../userland/lib/dsm/api.ts';
import { KERNEL_DSM_MAX_BYTES } from '../../userland/lib/dsm/kernel.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

describe('the kernel DSM lock table', () => {
  it('refuses one lock past LOCKS_PER_MANAGER in use with -ENOSPC, and takes it once a lock is given back', () => {
    const sys = boot({ nodes: 1, trace: false });
    const prog = program('dsm-lock-table', function* (env) {
      yield* env.sys.raw(SYS.dsm_create, 4096);
      yield* env.sys.raw(SYS.dsm_attach);
      let bad = 0;
      for (let id = 0; id < LOCKS_PER_MANAGER; id++) if ((yield* env.sys.raw(SYS.dsm_lock, id)) !== 0) bad++;
      yield* env.sys.publish('bad', bad);
      yield* env.sys.publish('one_more', yield* env.sys.raw(SYS.dsm_lock, LOCKS_PER_MANAGER));
      yield* env.sys.publish('unlock', yield* env.sys.raw(SYS.dsm_unlock, 7));
      yield* env.sys.publish('after_unlock', yield* env.sys.raw(SYS.dsm_lock, LOCKS_PER_MANAGER));
      return 0;
    });
    const job = sys.launchDirect(prog, [0], []);
    expect(sys.run({ done: () => sys.jobDone(job), until: 5e12 }).kind).toBe('done');
    const r = Object.fromEntries(job.ranks[0].process!.results);
    expect(r).toEqual({ bad: 0, one_more: -ERRNO.ENOSPC, unlock: 0, after_unlock: 0 });
  });
});

describe('openDsm with the kernel DSM', () => {
  it('throws a DsmError for a size that is no whole number or out of range, before any system call', () => {
    expect(KERNEL_DSM_MAX_BYTES).toBe(MAX_DSM_BYTES);
    const sys = boot({ nodes: 1, trace: false });
    const seen: string[] = [];
    const prog = program('dsm-open-args', function* (env) {
      for (const bytes of [NaN, 0, -1, 1.5, Infinity, MAX_DSM_BYTES + 1]) {
        try {
          yield* openDsm(env, 'kernel', bytes);
          seen.push(`${bytes}: opened`);
        } catch (e) {
          seen.push(`${bytes}: ${e instanceof DsmError ? 'DsmError' : 'other'} ${(e as Error).message}`);
        }
      }
      return 0;
    });
    const job = sys.launchDirect(prog, [0], []);
    expect(sys.run({ done: () => sys.jobDone(job), until: 5e12 }).kind).toBe('done');
    expect(seen).toHaveLength(6);
    for (const s of seen) expect(s).toMatch(/: DsmError dsm: a region is 1 byte to 1073741824 bytes, got /);
  });
});
