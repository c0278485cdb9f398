// What the NIC's U-Net engines share: an endpoint as the NIC keeps it (its
// channels, its send head, its counters), the wire format of a U-Net
// message, the names of the steps the trace shows, and the context the send
// engine (send.ts) and the receive engine (receive.ts) work in, which the
// NIC (unetnic.ts) provides.

import type { Engine } from '../engine.ts';
import type { PhysicalMemory } from '../memory.ts';
import type { NetMessage, Network } from '../network.ts';
import { UNET_LIMITS, unetQueues } from './layout.ts';

export interface UnetParams {
  readonly dmaBandwidth: number;
  readonly injectionBandwidth: number;
  /** A store to the doorbell reaching the NIC's firmware. */
  readonly doorbellPs: number;
  /** One descriptor (or free-queue entry) read across the I/O bus. */
  readonly descDmaPs: number;
  /** Receive processing before delivery: reassembly and the tag lookup. */
  readonly rxDemuxPs: number;
  /** Writing a finished descriptor and its queue index back into host memory. */
  readonly writebackPs: number;
  /** Bytes the NIC adds to each message on the wire. */
  readonly headerBytes: number;
}

/** What a U-Net message carries on the wire besides its payload. */
export interface UnetWireInfo {
  readonly tag: number;
  readonly flags: number;
  readonly roffset: number;
}

/** The network message with its U-Net fields (NicMessage's shape, so the machine can route it). */
export interface UnetMessage extends NetMessage {
  readonly header: Uint8Array;
  payload: Uint8Array;
  readonly txId: number;
  readonly cookie: number;
  readonly unet: UnetWireInfo;
}

/** The kernels' tag. */
export const UNET_KERNEL_TAG = 0;

/**
 * A wire flag only NICs set (the send check refuses every flag bit but
 * DIRECT): the receiver's NIC refused this channel's direct deposit at
 * `roffset`, outside its direct-access area. The sender's NIC posts it as a
 * DIRECT_REFUSED receive descriptor; it is never refused in turn.
 */
export const UNET_WIRE_REFUSED = 0x100;

export interface UnetEndpointConfig {
  /** The kernel's id for the endpoint (unique on this NIC). */
  readonly id: number;
  readonly segPa: number;
  readonly segLen: number;
  readonly entries: number;
  /** Raise the upcall interrupt when the receive queue becomes non-empty. */
  readonly upcall: boolean;
  /** Shown by the monitor (the owner's pid). */
  readonly owner: number;
}

export interface UnetChannel {
  readonly peerNode: number;
  /** Stamped on every message sent on this channel (the peer kernel's receive tag). */
  readonly txTag: number;
  /** Tag the peer stamps on messages for us (our kernel assigned it). */
  readonly rxTag: number;
}

export interface UnetEndpointStats {
  sent: number;
  sentBytes: number;
  received: number;
  receivedBytes: number;
  badDescriptors: number;
  noBuffer: number;
  recvFull: number;
  /** Peers' direct deposits dropped outside the direct-access area (each sender was told). */
  directRefused: number;
}

export class UnetEndpoint {
  readonly channels: (UnetChannel | null)[] = new Array(UNET_LIMITS.MAX_CHANNELS).fill(null);
  /** The NIC's own copy of the send head (the owner cannot move it). */
  sendHead = 0;
  /**
   * Refused-deposit notices this endpoint's NIC owes the senders (send.ts):
   * served in the endpoint's own turns, at most one waiting per channel.
   */
  readonly notices: { readonly dst: number; readonly info: UnetWireInfo }[] = [];
  live = true;
  upcall: boolean;
  readonly stats: UnetEndpointStats = { sent: 0, sentBytes: 0, received: 0, receivedBytes: 0, badDescriptors: 0, noBuffer: 0, recvFull: 0, directRefused: 0 };
  readonly queues: ReturnType<typeof unetQueues>;

  constructor(readonly cfg: UnetEndpointConfig) {
    this.upcall = cfg.upcall;
    this.queues = unetQueues(cfg.entries);
  }

  get id(): number {
    return this.cfg.id;
  }
}

/** A control message between kernels, or the news that one could not be delivered. */
export interface UnetControl {
  readonly src: number;
  readonly bytes: Uint8Array;
  readonly undeliverable: boolean;
}

/** Called for every NIC step, for the trace: the step began at `startPs` and took `durPs`. */
export type UnetStepObserver = (endpoint: number, step: string, detail: string, durPs: number, startPs: number) => void;

/** The steps of the NIC, by event kind (single words, so `break unet-nic/send-dma` can name one). */
export const UNET_STEP = { DOORBELL: 0, TX_FETCH: 1, TX_DMA: 2, TX_DONE: 3, RX_DEMUX: 4, RX_FREE: 5, RX_DMA_DONE: 6, RX_WRITEBACK: 7 } as const;
export const UNET_STEP_NAMES = ['doorbell', 'send-fetch', 'send-dma', 'send-writeback', 'recv-demux', 'free-fetch', 'recv-dma', 'recv-writeback'] as const;

/** NIC-wide counters. */
export interface UnetNicStats {
  sent: number;
  received: number;
  forged: number;
  deadEndpoint: number;
  undeliverable: number;
  control: number;
}

/** What the two engines need from the NIC around them. */
export interface UnetContext {
  readonly node: number;
  readonly engine: Engine;
  readonly memory: PhysicalMemory;
  readonly network: Network;
  readonly params: UnetParams;
  readonly stats: UnetNicStats;
  endpoint(id: number): UnetEndpoint | undefined;
  endpoints(): Iterable<UnetEndpoint>;
  /** Queues the NIC's notice to `dst` (a direct deposit `ep` refused) as `ep`'s work, in its turn. */
  notify(dst: number, info: UnetWireInfo, ep: UnetEndpoint): void;
  /** The endpoint and channel a receive tag belongs to. */
  byRxTag(tag: number): { readonly ep: UnetEndpoint; readonly chan: number } | undefined;
  /** A step that ends now (its fixed delay is over) or, with `startsNow`, one that begins now. */
  note(ep: number, step: number, detail: string, durPs: number, startsNow?: boolean): void;
  /** Control messages for the kernel, and endpoints whose upcall is due; `interrupt` raises the NIC's interrupt (if wired). */
  readonly inbox: UnetControl[];
  readonly upcalls: number[];
  interrupt(): void;
  /** The kernel has given the NIC an interrupt to raise. */
  irqWired(): boolean;
}

export const NO_BYTES = new Uint8Array(0);
