// Finding: a triggered operation that never fires keeps its process a zombie
// forever (kernel.reapZombies waits for portals.inflight(p) === 0, and nothing
// cancels a dead process's triggered ops). Its whole address space, its page
// tables and any staging-ring slot the op took stay allocated for good: one
// user can take a node's memory and its shared staging ring away from every
// later user, after exiting.
import { describe, expect, it } from 'vitest';
import { MiB, PTL, machine, mmapRw, openPortals, spawn } from './attack.ts';

describe('a triggered operation of an exited process', () => {
  it('is dropped at exit, so the zombie is reaped and the next user can spawn', () => {
    const sys = machine(2);
    const k = sys.kernel(0);
    const hog = spawn(sys, 0, 2, 'hog', function* (env) {
      const { P, ni } = yield* openPortals(env);
      const { ct } = yield* P.PtlCTAlloc(ni);
      // Take most of the node's memory (halving on ENOMEM).
      for (let size = 1024 * MiB; size >= 2 * MiB; ) {
        const va = yield* mmapRw(env, size);
        if (va < 0 || va > 2 ** 62) size /= 2;
      }
      // One triggered put whose threshold is never reached, from a non-contiguous
      // (iovec) MD, which would need a staging slot when it fires.
      const [i1, i2] = [yield* env.mem.alloc(4096), yield* env.mem.alloc(4096)];
      const iov = yield* env.mem.alloc(32);
      for (const [i, w] of [i1, 4096, i2, 4096].entries()) yield* env.mem.storeU64(iov + 8 * i, w);
      const { md } = yield* P.PtlMDBind(ni, { start: iov, length: 2, options: PTL.IOVEC });
      expect(yield* P.PtlTriggeredPut(md, 0, 8192, PTL.NO_ACK_REQ, { nid: 1, pid: 0 }, 0, 0n, 0, 0, 0, ct, 1_000_000)).toBe(PTL.OK);
      // exit without PtlCTCancelTriggered / PtlCTFree / PtlNIFini
    });
    sys.run({ until: 1e12, done: () => !hog.alive });
    sys.run({ until: sys.engine.now + 1e10 });
    expect(hog.alive).toBe(false);
    const after = { used: k.phys.usedBytes, staging: k.portals.stagingBusy };
    // A later user cannot even start a process on the node.
    let spawnError = '';
    try {
      spawn(sys, 0, 1, 'next', function* () {});
    } catch (e) {
      spawnError = (e as Error).message;
    }
    expect(spawnError).toBe(''); // fails: "no 2097152-byte contiguous physical extent for heap"
    expect(after).toEqual({ used: 0, staging: 0 }); // fails too: the hog's memory and slot are never freed
  });
});
