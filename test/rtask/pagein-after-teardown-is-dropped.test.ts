// A remote task ends while one of its copy-on-reference page-ins is in
// flight (a helper thread faults on a data page three levels down a
// hierarchical paging tree; main returns at once). The node tears the
// task's VM objects down (two detach round trips) and releases their frames
// before the page arrives; the answer is then written into the released
// frame (obj.pa): a kernel write into memory that is no longer the job's.
import { expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { launch } from '../../monitor/launch.ts';
import { System } from '../../system/system.ts';
import { program } from '../../userland/lib/runtime.ts';
import { DEFAULT_RTASK } from '../../userland/lib/rtask.ts';

const PAGE = 4096;
const data = new Uint8Array(8 * PAGE).fill(7);
const prog = program('uafpage', function* main(env) {
  const rank = yield* env.sys.getrank();
  if (rank !== 6) return 0;
  yield* env.spawn(function* (t) {
    yield* t.mem.load(env.dataVa + 3 * PAGE, 1); // copy-on-reference fault, page-in over 3 levels
  });
  yield* env.compute(5000);
  return 0; // the task ends while the helper's page-in is in flight
}, { data, dataBytes: data.length, textBytes: 16 * 1024 });

it('drops a copy-on-reference page that arrives after its task was torn down, never writing into the released frames', () => {
  const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [9] }, seed: 1, transport: 'dipc' });
  sys.trace.enabled = false;
  const job = launch(sys, {
    load: 'crtc', fanout: { kind: 'binomial' }, programs: [prog], map: [{ firstNid: 0, count: 8, image: 0 }], argv: [], timeoutUs: 10_000_000,
    rtask: { ...DEFAULT_RTASK, algorithm: 'crtc', creation: 'tree', paging: 'tree', vmAreas: 3 },
  });
  // Node 6 (rank 6): the ranges its kernel released and nobody has allocated since, and kernel writes into them.
  const writesIntoReleased: string[] = [];
  const k = sys.kernel(6);
  const sizes = new Map<number, number>();
  let released: [number, number][] = [];
  const alloc = k.phys.alloc.bind(k.phys);
  k.phys.alloc = ((len: number, align?: number) => {
    const pa = alloc(len, align);
    if (pa !== null) {
      sizes.set(pa, len);
      released = released.filter(([a, e]) => e <= pa || a >= pa + len);
    }
    return pa;
  }) as typeof k.phys.alloc;
  const rel = k.phys.release.bind(k.phys);
  k.phys.release = ((pa: number) => {
    released.push([pa, pa + (sizes.get(pa) ?? PAGE)]);
    return rel(pa);
  }) as typeof k.phys.release;
  const mem = k.node.memory;
  const w = mem.write.bind(mem);
  mem.write = ((pa: number, b: Uint8Array) => {
    for (const [a, e] of released) if (pa >= a && pa < e) writesIntoReleased.push(`write of ${b.length} bytes at 0x${pa.toString(16)} after its frames were released`);
    return w(pa, b);
  }) as typeof mem.write;
  sys.run({ done: () => sys.jobDone(job), until: 100e12 });
  sys.run({ done: () => false, until: sys.engine.now + 1e12 });
  // The page-in was really in flight at the tear-down (else this test proves nothing).
  expect(k.rtask.stats.faults).toBeGreaterThan(0);
  expect(writesIntoReleased).toEqual([]);
});
