// U-Net on the NIC (von Eicken et al., SOSP 1995): user-level endpoints.
// An endpoint is a communication segment (physically contiguous host memory
// of its owner) holding send, receive and free descriptor queues and
// message buffers (layout.ts). The kernel programs endpoints, channels and
// tags through the small interface below and is off the data path after
// that: a user store to the segment's SEND_TAIL word (the doorbell) starts
// the send engine (send.ts), which DMAs the buffer straight from the segment
// and stamps the channel's tag; on the far side the receive engine
// (receive.ts) demultiplexes by tag into that endpoint only.
//
// Protection is the NIC's: a descriptor is checked against its own
// segment; the tag comes from the NIC's channel table, never from the user;
// an incoming tag that is unknown, or arrives from a node other than the
// channel's peer, is dropped and counted. Bad descriptors get an error
// status, full queues are counted in the endpoint's DROPS word. Nothing a
// user writes into a descriptor can make the host throw.
//
// Tag 0 is the kernels' own: control messages to and from the kernel, handed
// to the host with an interrupt (the only U-Net traffic that interrupts,
// besides upcalls).

import type { Engine } from '../engine.ts';
import type { PhysicalMemory } from '../memory.ts';
import type { Network } from '../network.ts';
import { UNET_KERNEL_TAG, UNET_STEP_NAMES, type UnetChannel, type UnetContext, type UnetControl, UnetEndpoint, type UnetEndpointConfig, type UnetMessage, type UnetNicStats, type UnetParams, type UnetStepObserver, type UnetWireInfo } from './endpoint.ts';
import { UNET_HDR } from './layout.ts';
import { UnetReceiveEngine } from './receive.ts';
import { UnetSendEngine } from './send.ts';

export { UNET_KERNEL_TAG, UnetEndpoint } from './endpoint.ts';
export type { UnetChannel, UnetControl, UnetEndpointConfig, UnetEndpointStats, UnetMessage, UnetParams, UnetStepObserver, UnetWireInfo } from './endpoint.ts';

export class UnetNic implements UnetContext {
  private readonly eps = new Map<number, UnetEndpoint>();
  /** Receive tag -> endpoint and channel. */
  private readonly rxTags = new Map<number, { readonly ep: UnetEndpoint; readonly chan: number }>();
  readonly inbox: UnetControl[] = [];
  readonly upcalls: number[] = [];
  private readonly send: UnetSendEngine;
  private readonly receive: UnetReceiveEngine;
  irq: { readonly core: number; readonly vector: number } | null = null;
  onStep: UnetStepObserver | null = null;
  /** NIC-wide counters. */
  readonly stats: UnetNicStats = { sent: 0, received: 0, forged: 0, deadEndpoint: 0, undeliverable: 0, control: 0 };

  constructor(
    readonly node: number,
    readonly engine: Engine,
    readonly memory: PhysicalMemory,
    readonly network: Network,
    readonly params: UnetParams,
    private readonly raiseIrq: (core: number, vector: number) => void,
  ) {
    this.send = new UnetSendEngine(this);
    this.receive = new UnetReceiveEngine(this);
  }

  // ---- what the kernel programs ---------------------------------------------

  /** Creates an endpoint over a segment (the kernel has checked and pinned it); zeroes its header. */
  createEndpoint(cfg: UnetEndpointConfig): UnetEndpoint {
    const ep = new UnetEndpoint(cfg);
    this.memory.zero(cfg.segPa, UNET_HDR.SIZE);
    this.memory.writeU32(cfg.segPa + UNET_HDR.ENTRIES, cfg.entries);
    this.eps.set(cfg.id, ep);
    this.memory.doorbell = (addr, len) => this.send.doorbell(addr, len);
    return ep;
  }

  /** The NIC forgets an endpoint: it stops reading and writing its segment at once. */
  destroyEndpoint(id: number): void {
    const ep = this.eps.get(id);
    if (ep === undefined) return;
    ep.live = false;
    for (const c of ep.channels) if (c !== null) this.rxTags.delete(c.rxTag);
    this.eps.delete(id);
    if (this.eps.size === 0) this.memory.doorbell = null;
  }

  endpoint(id: number): UnetEndpoint | undefined {
    return this.eps.get(id);
  }

  endpoints(): Iterable<UnetEndpoint> {
    return this.eps.values();
  }

  allEndpoints(): UnetEndpoint[] {
    return [...this.eps.values()];
  }

  byRxTag(tag: number): { readonly ep: UnetEndpoint; readonly chan: number } | undefined {
    return this.rxTags.get(tag);
  }

  tagInUse(tag: number): boolean {
    return tag === UNET_KERNEL_TAG || this.rxTags.has(tag);
  }

  setChannel(id: number, chan: number, c: UnetChannel): void {
    const ep = this.eps.get(id);
    if (ep === undefined) return;
    const old = ep.channels[chan];
    if (old) this.rxTags.delete(old.rxTag);
    ep.channels[chan] = c;
    this.rxTags.set(c.rxTag, { ep, chan });
  }

  clearChannel(id: number, chan: number): void {
    const ep = this.eps.get(id);
    const c = ep?.channels[chan];
    if (!ep || !c) return;
    this.rxTags.delete(c.rxTag);
    ep.channels[chan] = null;
  }

  /** Queues a kernel control message to `dst` (tag 0). */
  sendControl(dst: number, bytes: Uint8Array): void {
    this.send.sendControl(dst, bytes);
  }

  notify(dst: number, info: UnetWireInfo, ep: UnetEndpoint): void {
    this.send.sendNotice(dst, info, ep);
  }

  takeControl(): UnetControl[] {
    return this.inbox.splice(0);
  }

  /** Endpoints whose receive queue became non-empty with the upcall on, since the last call. */
  takeUpcalls(): number[] {
    return this.upcalls.splice(0);
  }

  // ---- what the engines and the network call ----------------------------------

  note(ep: number, step: number, detail: string, durPs: number, startsNow = false): void {
    this.onStep?.(ep, UNET_STEP_NAMES[step], detail, durPs, startsNow ? this.engine.now : this.engine.now - durPs);
  }

  interrupt(): void {
    if (this.irq) this.raiseIrq(this.irq.core, this.irq.vector);
  }

  irqWired(): boolean {
    return this.irq !== null;
  }

  /** The network delivered a U-Net message's head here. */
  arrive(msg: UnetMessage, tailTime: number): void {
    this.receive.arrive(msg, tailTime);
  }

  /** A message this NIC sent could not be delivered (its destination is down). */
  undeliverable(msg: UnetMessage): void {
    this.stats.undeliverable++;
    if (msg.unet.tag === UNET_KERNEL_TAG) {
      this.inbox.push({ src: msg.dst, bytes: msg.payload, undeliverable: true });
      this.interrupt();
    }
  }
}
