// A mapping the kernel backed with 2 MiB pages (its choice: the program asked
// for an anonymous mapping of a multiple of 2 MiB) still behaves as 4 KiB
// pages to mprotect and munmap: the kernel splits the huge page, as Linux
// splits a transparent huge page. They used to return -EINVAL ("inside a
// 2097152-byte page"), which left the user DSM livelocked (issue 15).

import { describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_NONE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';
import { runMain } from './helpers.ts';

const MIB2 = 2 << 20;

describe('a mapping backed by 2 MiB pages', () => {
  it('takes an mprotect of one 4 KiB page inside a huge page, and only that page changes', () => {
    const { p, results } = runMain(function* (env) {
      const a = yield* env.sys.mmap(0, 2 * MIB2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      yield* env.mem.storeU64(a + MIB2 + 5 * 4096, 41n);
      let faults = 0;
      yield* env.onFault(function* (addr) {
        faults++;
        yield* env.sys.publish('fault_page', (addr - a) / 4096);
        yield* env.sys.mprotect(a + MIB2 + 5 * 4096, 4096, PROT_READ | PROT_WRITE);
      });
      yield* env.sys.publish('rc', yield* env.sys.mprotect(a + MIB2 + 5 * 4096, 4096, PROT_NONE));
      yield* env.mem.storeU64(a + MIB2 + 4 * 4096, 1n); // its neighbours keep their rights
      yield* env.mem.storeU64(a + MIB2 + 6 * 4096, 1n);
      yield* env.mem.storeU64(a, 1n); // and so does the other huge page
      yield* env.sys.publish('faults_before', faults);
      yield* env.sys.publish('value', Number(yield* env.mem.loadU64(a + MIB2 + 5 * 4096))); // faults once
      yield* env.sys.publish('faults', faults);
    });
    expect(p.exitStatus, p.exitReason ?? '').toBe(0);
    expect(results).toMatchObject({ rc: 0, faults_before: 0, value: 41, faults: 1, fault_page: 512 + 5 });
  });

  it('takes a munmap of one 4 KiB page inside a huge page: that page faults, the rest keeps its contents', () => {
    const { p, results } = runMain(function* (env) {
      const a = yield* env.sys.mmap(0, MIB2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      yield* env.mem.storeU64(a + 8 * 4096, 8n);
      yield* env.mem.storeU64(a + 10 * 4096, 10n);
      yield* env.sys.publish('rc', yield* env.sys.munmap(a + 9 * 4096, 4096));
      yield* env.sys.publish('sum', Number((yield* env.mem.loadU64(a + 8 * 4096)) + (yield* env.mem.loadU64(a + 10 * 4096))));
      yield* env.mem.loadU64(a + 9 * 4096);
    });
    expect(results).toMatchObject({ rc: 0, sum: 18 });
    expect(p.exitStatus).toBe(139);
    expect(p.exitReason).toMatch(/^page fault at 0x[0-9a-f]+: read, not-present/);
  });
});
