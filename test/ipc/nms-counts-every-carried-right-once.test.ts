// No More Senders over random sequences of make-send, carry (to a live port,
// whose receiver takes the right, or to a dead port, which discards it) and
// deallocate, by three tasks on three nodes, on both transports. A model
// counts the send rights that exist; the port's owner must get its notice
// exactly in the slots where that count falls to zero, and in no other.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../kernel/errno.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { IPC_KIND, IPC_NMS, openIpc } from '../../userland/lib/ipc.ts';
import type { U } from '../../userland/lib/ops.ts';
import { type Env, program } from '../../userland/lib/runtime.ts';
import { machine } from './helpers.ts';

const RANKS = 3;
/** Simulated ns: the ops start at T0, one per SLOT (time enough for any message and NMS update to settle). */
const T0 = 300_000_000;
const SLOT = 20_000_000;

type Op = { kind: 'make' } | { kind: 'give'; from: number; to: number } | { kind: 'dead'; from: number; to: number } | { kind: 'drop'; from: number };

/** Valid ops from raw choices, with the slots in which the model's count of send rights falls to zero. */
function plan(choices: readonly [number, number, number][]): { ops: Op[]; zeroAt: number[] } {
  const held = new Array<number>(RANKS).fill(0);
  const ops: Op[] = [];
  const zeroAt: number[] = [];
  for (const [what, a, b] of choices) {
    const holders = held.map((n, r) => (n > 0 ? r : -1)).filter((r) => r >= 0);
    const from = holders.length === 0 ? -1 : holders[a % holders.length];
    const to = b % RANKS;
    const kind = from < 0 ? 0 : Math.min(what % 5, 3);
    if (kind === 0) {
      ops.push({ kind: 'make' });
      held[0]++;
    } else if (kind === 1) {
      ops.push({ kind: 'give', from, to });
      held[to]++;
    } else if (kind === 2) {
      // A dead port on the sender's own node is refused at once (-ECONNREFUSED): the dead port is another node's.
      ops.push({ kind: 'dead', from, to: (from + 1 + (b % (RANKS - 1))) % RANKS });
    } else {
      ops.push({ kind: 'drop', from });
      held[from]--;
      if (held.every((n) => n === 0)) zeroAt.push(ops.length - 1);
    }
  }
  // Then every right left goes, the owner's last: a count gone wrong on the way shows as an early (or missing) notice.
  for (const r of [2, 1, 0]) {
    for (; held[r] > 0; held[r]--) ops.push({ kind: 'drop', from: r });
  }
  if (ops.length > 0 && ops[ops.length - 1].kind === 'drop' && zeroAt[zeroAt.length - 1] !== ops.length - 1) zeroAt.push(ops.length - 1);
  return { ops, zeroAt };
}

/** Simulated time since boot, in ns (clock_gettime). */
function* nowNs(env: Env, buf: number): U<number> {
  yield* env.sys.raw(SYS.clock_gettime, 1, buf);
  return Number(yield* env.mem.loadU64(buf)) * 1e9 + Number(yield* env.mem.loadU64(buf + 8));
}

/** Runs the ops; returns the slots in which the owner got a No More Senders notice. */
function simulate(transport: 'dipc' | 'norma', ops: readonly Op[]): number[] {
  const sys = machine({ nodes: RANKS, transport });
  const notices: number[] = [];
  const held: number[][] = Array.from({ length: RANKS }, () => []);
  const refused: number[] = [];
  const job = sys.launchDirect(
    program('nmsprop', function* (env) {
      const ipc = yield* openIpc(env);
      const me = yield* env.sys.getrank();
      const clock = yield* env.mem.alloc(16);
      const until = function* (ns: number) {
        const now = yield* nowNs(env, clock);
        if (ns > now) yield* env.sys.nanosleep(ns - now);
      };
      const inbox = yield* ipc.portAlloc();
      const doomed = yield* ipc.portAlloc();
      yield* ipc.publish(inbox, 10);
      yield* ipc.publish(doomed, 20);
      let p = -1;
      if (me === 0) p = yield* ipc.portAlloc(IPC_NMS);
      // Receivers on their own threads: the inbox's carried rights join this rank's rights; the owner notes its notices.
      const watch = function* (port: number, onMsg: (kind: number, carried: number) => void) {
        yield* env.spawn(function* (t) {
          const b = yield* t.mem.alloc(8 * 9);
          for (;;) {
            if ((yield* t.sys.raw(SYS.ipc_receive, port, b, 9)) < 0) return;
            onMsg(Number(yield* t.mem.loadU64(b)), Number(BigInt.asIntN(64, yield* t.mem.loadU64(b + 8))));
          }
        });
      };
      yield* watch(inbox, (_kind, carried) => {
        if (carried >= 0) held[me].push(carried);
      });
      if (me === 0) {
        yield* watch(p, (kind) => {
          if (kind === IPC_KIND.noMoreSenders) notices.push(Math.floor((sys.engine.now / 1000 - T0) / SLOT));
        });
      }
      const inboxes: number[] = [];
      const dead: number[] = [];
      for (let r = 0; r < RANKS; r++) {
        inboxes.push(yield* ipc.lookup(r, 10, 1_000_000));
        dead.push(yield* ipc.lookup(r, 20, 1_000_000));
      }
      yield* until(T0 - SLOT / 2);
      yield* ipc.dealloc(doomed);
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i];
        const actor = op.kind === 'make' ? 0 : op.from;
        if (actor !== me) continue;
        yield* until(T0 + i * SLOT);
        if (op.kind === 'make') held[0].push(yield* ipc.makeSend(p));
        else if (op.kind === 'give') yield* ipc.send(inboxes[op.to], [i], held[me][0]);
        else if (op.kind === 'dead') {
          // The dead port's home answers the send: the port is dead, and the right it carried is not held there.
          refused.push(yield* env.sys.raw(SYS.ipc_send, dead[op.to], clock, 0, held[me][0]));
        }
        else yield* ipc.dealloc(held[me].pop()!);
      }
      // Everyone stays until the last slot has settled (a task's end drops its rights).
      yield* until(T0 + (ops.length + 1) * SLOT);
      return 0;
    }),
    [0, 1, 2],
    ['nmsprop'],
  );
  sys.run({ done: () => sys.jobDone(job), until: 60e12 });
  expect(sys.jobDone(job)).toBe(true);
  expect(job.ranks.map((r) => r.process?.exitReason ?? r.process?.exitStatus)).toEqual([0, 0, 0]);
  expect(refused).toEqual(ops.filter((o) => o.kind === 'dead').map(() => -ERRNO.ECONNREFUSED));
  return notices.filter((s) => s < ops.length);
}

describe('No More Senders counts every send right once in and once out', () => {
  const choice = fc.tuple(fc.nat(7), fc.nat(5), fc.nat(5));
  for (const transport of ['dipc', 'norma'] as const) {
    it(`notifies the owner exactly when the last send right goes, over random make/carry/dead-port/deallocate sequences (${transport}, seeded)`, () => {
      fc.assert(
        fc.property(fc.array(choice, { minLength: 4, maxLength: 20 }), (choices) => {
          const { ops, zeroAt } = plan(choices);
          expect(simulate(transport, ops)).toEqual(zeroAt);
        }),
        // The first example is the review's: rank 1 carries its right to a dead port of the owner's node, then drops it.
        { seed: 1414, numRuns: 12, examples: [[[[0, 0, 0], [1, 0, 1], [2, 1, 1], [3, 1, 0]]]] },
      );
    });
  }
});
