import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../kernel/errno.ts';
import type { IpcReply } from '../../kernel/ipc/services.ts';
import { inKernel, machine } from './helpers.ts';

describe('kernel services over distributed IPC', () => {
  for (const transport of ['norma', 'dipc'] as const) {
    it(`answers a request with the service's words and payload on another node (${transport})`, () => {
      const sys = machine({ nodes: 4, transport });
      const data = Uint8Array.from({ length: 3 * 4096 + 100 }, (_, i) => (i * 7) % 251);
      sys.kernel(3).ipc.serve('echo', function* (req) {
        const got = req.payload!.bytes();
        yield* req.reply([req.words[0] + 1, got.length, req.src], { bytes: got.reverse() });
      });
      let reply: IpcReply | null = null;
      let bytes: Uint8Array | null = null;
      inKernel(sys, 0, (cpu) =>
        sys.kernel(0).ipc.request(3, 'echo', [41], { bytes: data }, function* (r) {
          reply = r;
          if (r.ok) bytes = r.payload!.bytes();
          void cpu;
        }),
      );
      sys.run({ until: 1e12 });
      expect(reply).toMatchObject({ ok: true, src: 3, words: [42, data.length, 0] });
      expect(bytes).toEqual(data.slice().reverse());
      // Every kernel buffer the transport took is back.
      expect(sys.kernel(0).ipc.transport.inFlight).toBe(0);
      expect(sys.kernel(0).ipc.waiting).toBe(0);
    });

    it(`tells the requester when the node is down (${transport})`, () => {
      const sys = machine({ nodes: 4, transport });
      sys.machine.network.setNodeDown(2, true);
      let reply: IpcReply | null = null;
      inKernel(sys, 0, () =>
        sys.kernel(0).ipc.request(2, 'echo', [1], { bytes: new Uint8Array(9000) }, function* (r) {
          reply = r;
        }),
      );
      sys.run({ until: 1e12 });
      expect(reply).toMatchObject({ ok: false, errno: -ERRNO.EHOSTUNREACH });
      expect((reply as unknown as { reason: string }).reason).toContain('node 2');
    });

    it(`refuses a request for a service the node does not have (${transport})`, () => {
      const sys = machine({ nodes: 2, transport });
      let reply: IpcReply | null = null;
      inKernel(sys, 0, () =>
        sys.kernel(0).ipc.request(1, 'nosuch', [], null, function* (r) {
          reply = r;
        }),
      );
      sys.run({ until: 1e12 });
      expect(reply).toMatchObject({ ok: false, errno: -ERRNO.ENOSYS });
    });
  }

  it('hands the requester the far side\'s reason for a refusal, with the refusing node named', () => {
    const sys = machine({ nodes: 3, transport: 'dipc' });
    sys.kernel(2).ipc.serve('picky', function* (req) {
      yield* req.refuse(-ERRNO.EBUSY, `key ${req.words[0]} is taken by pid 9`);
    });
    const replies: IpcReply[] = [];
    inKernel(sys, 0, function* () {
      yield* sys.kernel(0).ipc.request(2, 'picky', [5], null, function* (r) {
        replies.push(r);
      });
      yield* sys.kernel(0).ipc.request(1, 'nosuch', [], null, function* (r) {
        replies.push(r);
      });
    });
    sys.run({ until: 1e12 });
    expect(replies).toContainEqual({ ok: false, errno: -ERRNO.EBUSY, reason: 'node 2: key 5 is taken by pid 9' });
    expect(replies).toContainEqual({ ok: false, errno: -ERRNO.ENOSYS, reason: "node 1: no service 'nosuch' here" });
  });

  it('lets a handler reply later, after asking another node (a paging-tree node asks its parent)', () => {
    const sys = machine({ nodes: 3, transport: 'dipc' });
    sys.kernel(0).ipc.serve('page', function* (req) {
      yield* req.reply([req.words[0] * 10], { bytes: new Uint8Array(4096).fill(req.words[0]) });
    });
    sys.kernel(1).ipc.serve('page', function* (req) {
      yield* sys.kernel(1).ipc.request(0, 'page', req.words, null, function* (up) {
        if (!up.ok) return yield* req.refuse(up.errno, up.reason);
        yield* req.reply(up.words, { bytes: up.payload!.bytes() });
      });
    });
    let reply: IpcReply | null = null;
    let first = -1;
    inKernel(sys, 2, () =>
      sys.kernel(2).ipc.request(1, 'page', [7], null, function* (r) {
        reply = r;
        if (r.ok) first = r.payload!.bytes()[0];
      }),
    );
    sys.run({ until: 1e12 });
    expect(reply).toMatchObject({ ok: true, src: 1, words: [70] });
    expect(first).toBe(7);
  });

  it('refuses bad arguments with -EINVAL instead of throwing', () => {
    const sys = machine({ nodes: 2, transport: 'dipc' });
    const errs: number[] = [];
    const collect = function* (r: IpcReply) {
      if (!r.ok) errs.push(r.errno);
    };
    const ipc = sys.kernel(0).ipc;
    inKernel(sys, 0, function* () {
      yield* ipc.request(99, 'echo', [], null, collect);
      yield* ipc.request(-1, 'echo', [], null, collect);
      yield* ipc.request(Number.NaN, 'echo', [], null, collect);
      yield* ipc.request(1, 'much-too-long-name', [], null, collect);
      yield* ipc.request(1, 'echo', new Array(13).fill(0), null, collect);
      yield* ipc.request(1, 'echo', [Number.NaN], null, collect);
      yield* ipc.request(1, 'echo', [], { pa: 2 ** 50, len: 10 }, collect);
    });
    sys.run({ until: 1e12 });
    expect(errs).toEqual(new Array(7).fill(-ERRNO.EINVAL));
  });

  it('serves a request to a service on the requesting node itself (through the NIC loopback)', () => {
    const sys = machine({ nodes: 2, transport: 'norma' });
    sys.kernel(0).ipc.serve('self', function* (req) {
      yield* req.reply([req.src, req.payload!.len]);
    });
    let reply: IpcReply | null = null;
    inKernel(sys, 0, () =>
      sys.kernel(0).ipc.request(0, 'self', [], { bytes: new Uint8Array(5000) }, function* (r) {
        reply = r;
      }),
    );
    sys.run({ until: 1e12 });
    expect(reply).toMatchObject({ ok: true, src: 0, words: [0, 5000] });
  });

  it('lets the caller give up on a hung node: abandon fails what still waits for it', () => {
    const sys = machine({ nodes: 2, transport: 'dipc' });
    sys.kernel(1).ipc.serve('echo', function* (req) {
      yield* req.reply([]);
    });
    sys.hangKernel(1);
    let reply: IpcReply | null = null;
    inKernel(sys, 0, () =>
      sys.kernel(0).ipc.request(1, 'echo', [], null, function* (r) {
        reply = r;
      }),
    );
    sys.run({ until: 1e12 });
    expect(reply).toBeNull();
    expect(sys.kernel(0).ipc.waiting).toBe(1);
    inKernel(sys, 0, (cpu) => sys.kernel(0).ipc.abandon(1, 'no answer in time', cpu));
    sys.run({ until: 2e12 });
    expect(reply).toMatchObject({ ok: false, errno: -ERRNO.EHOSTUNREACH, reason: 'node 1: no answer in time' });
    expect(sys.kernel(0).ipc.waiting).toBe(0);
  });
});
