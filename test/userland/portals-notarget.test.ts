// Portals 4 at the target when the addressed process or its interface does
// not exist (yet): the message is dropped, and an initiator that asked for
// an acknowledgment or a reply learns of it through ni_fail_type
// PTL_NI_TARGET_INVALID rather than waiting forever (issue 11 item 2).

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { PTL, Portals } from '../../userland/lib/portals.ts';
import { type Env, program } from '../../userland/lib/runtime.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';

function twoNodes() {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [2] }, seed: 1 });
  sys.trace.enabled = false;
  return sys;
}

/** Puts with an ack, then gets, to nid 1 pid 1; records the type and ni_fail of the event each brings back. */
function* probe(env: Env, seen: { type: number; ni_fail_type: number }[]) {
  const P = new Portals(env.cpu, env.mem);
  yield* P.PtlInit();
  const { ni } = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_MATCHING | PTL.NI_PHYSICAL, PTL.PID_ANY, null);
  const { eq } = yield* P.PtlEQAlloc(ni, 16);
  const buf = yield* env.sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  const { md } = yield* P.PtlMDBind(ni, { start: buf, length: 4096, eq_handle: eq, options: PTL.MD_EVENT_SEND_DISABLE });
  yield* env.sys.nanosleep(100_000);
  yield* P.PtlPut(md, 0, 8, PTL.ACK_REQ, { nid: 1, pid: 1 }, 0, 0n, 0, 0, 0);
  const a = yield* P.PtlEQWait(eq);
  seen.push({ type: a.event!.type, ni_fail_type: a.event!.ni_fail_type });
  yield* P.PtlGet(md, 0, 8, { nid: 1, pid: 1 }, 0, 0n, 0, 0);
  const g = yield* P.PtlEQWait(eq);
  seen.push({ type: g.event!.type, ni_fail_type: g.event!.ni_fail_type });
}

describe('a Portals message to a target that does not exist', () => {
  it('comes back to the initiator as PTL_NI_TARGET_INVALID when no process has the pid', () => {
    const sys = twoNodes();
    sys.kernel(1).boot();
    const seen: { type: number; ni_fail_type: number }[] = [];
    sys.kernel(0).spawn(program('probe', (env) => probe(env, seen)), { rank: 0, jobSize: 1, uid: 1, argv: ['p'], envp: [] });
    sys.run({ until: 1e12 });
    expect(seen).toEqual([
      { type: PTL.EVENT_ACK, ni_fail_type: PTL.NI_TARGET_INVALID },
      { type: PTL.EVENT_REPLY, ni_fail_type: PTL.NI_TARGET_INVALID },
    ]);
  });

  it('comes back as PTL_NI_TARGET_INVALID when the process exists but has not created its interface', () => {
    const sys = twoNodes();
    const seen: { type: number; ni_fail_type: number }[] = [];
    const idle = program('idle', function* (env) {
      yield* env.sys.nanosleep(5_000_000);
      return 0;
    });
    sys.kernel(1).spawn(idle, { rank: 0, jobSize: 1, uid: 1, argv: ['i'], envp: [] });
    sys.kernel(0).spawn(program('probe', (env) => probe(env, seen)), { rank: 0, jobSize: 1, uid: 1, argv: ['p'], envp: [] });
    sys.run({ until: 1e12 });
    expect(seen.map((s) => s.ni_fail_type)).toEqual([PTL.NI_TARGET_INVALID, PTL.NI_TARGET_INVALID]);
  });
});
