// A node's network interface. Transmit: a command queue served in order by a
// TX DMA engine that reads the payload from physical memory and injects the
// message. Receive: the header arrives first and raises an interrupt; the
// host then tells the NIC where to deposit the payload (or to discard it),
// and the RX DMA engine writes the bytes into physical memory. Completions
// are posted to a queue and raise an interrupt. DMA really copies bytes.

import type { Engine, EventSink } from './engine.ts';
import type { PhysicalMemory } from './memory.ts';
import type { NetMessage, Network } from './network.ts';
import { transferPs } from './time.ts';
import { type UnetMessage, UnetNic, type UnetParams } from './unet/unetnic.ts';

export interface NicParams {
  readonly dmaBandwidth: number;
  readonly injectionBandwidth: number;
  readonly txSetupPs: number;
  readonly rxHeaderPs: number;
  readonly rxSetupPs: number;
}

/** A transmit command as the host writes it. */
export interface TxCommand {
  readonly dst: number;
  readonly header: Uint8Array;
  readonly payloadAddr: number;
  readonly payloadLen: number;
  /** Host's tag, returned in the completion. */
  readonly cookie: number;
}

/** A message on the wire: the network's fields plus the bytes. */
export interface NicMessage extends NetMessage {
  readonly header: Uint8Array;
  payload: Uint8Array;
  readonly txId: number;
  readonly cookie: number;
}

/** A received header waiting for the host's deposit or discard. */
export interface RxHeader {
  readonly rxId: number;
  readonly src: number;
  readonly header: Uint8Array;
  readonly payloadLen: number;
  readonly arrivedAt: number;
}

export type NicCompletion =
  | { readonly kind: 'tx-done'; readonly txId: number; readonly cookie: number; readonly at: number }
  | { readonly kind: 'tx-error'; readonly txId: number; readonly cookie: number; readonly reason: string; readonly at: number }
  | { readonly kind: 'tx-undeliverable'; readonly txId: number; readonly cookie: number; readonly dst: number; readonly reason: string; readonly at: number }
  | { readonly kind: 'rx-done'; readonly rxId: number; readonly bytes: number; readonly at: number }
  | { readonly kind: 'rx-error'; readonly rxId: number; readonly reason: string; readonly at: number };

export interface NicIrqConfig {
  readonly core: number;
  /** Raised when a header arrives. */
  readonly rxVector: number;
  /** Raised when a completion is posted. */
  readonly completionVector: number;
}

const TX_DMA = 0;
const TX_DONE = 1;
const RX_HEADER = 2;
const RX_DONE = 3;

interface PendingRx {
  readonly rxId: number;
  readonly msg: NicMessage;
  readonly tailTime: number;
  state: 'arriving' | 'waiting' | 'depositing' | 'done';
  depositAddr: number;
  depositLen: number;
}

export class Nic implements EventSink {
  private readonly txQueue: { cmd: TxCommand; txId: number }[] = [];
  private txBusy = false;
  private txCurrent: { cmd: TxCommand; txId: number; msg: NicMessage | null } | null = null;
  private nextTxId = 1;
  private nextRxId = 1;
  private readonly rx = new Map<number, PendingRx>();
  private readonly rxHeaders: RxHeader[] = [];
  private readonly completions: NicCompletion[] = [];
  private rxDmaFreeAt = 0;
  irq: NicIrqConfig | null = null;
  /** Counters for `info node`. */
  readonly stats = { txMessages: 0, txBytes: 0, rxMessages: 0, rxBytes: 0, rxDiscarded: 0, undeliverable: 0 };
  /** U-Net's user-level endpoints (hw/unet/): messages with a tag go there, not to the host. */
  readonly unet: UnetNic;

  constructor(
    readonly node: number,
    private readonly engine: Engine,
    private readonly memory: PhysicalMemory,
    private readonly network: Network,
    readonly params: NicParams,
    /** Raises an interrupt on a core of this node. */
    private readonly raiseIrq: (core: number, vector: number) => void,
    unetParams: UnetParams,
  ) {
    this.unet = new UnetNic(node, engine, memory, network, unetParams, raiseIrq);
  }

  /** Queues a transmit command and returns its id. */
  transmit(cmd: TxCommand): number {
    const txId = this.nextTxId++;
    this.txQueue.push({ cmd: { ...cmd, header: cmd.header.slice() }, txId });
    if (!this.txBusy) this.startNextTx();
    return txId;
  }

  get txQueueLength(): number {
    return this.txQueue.length + (this.txBusy ? 1 : 0);
  }

  private startNextTx(): void {
    const next = this.txQueue.shift();
    if (next === undefined) {
      this.txBusy = false;
      this.txCurrent = null;
      return;
    }
    this.txBusy = true;
    this.txCurrent = { ...next, msg: null };
    this.engine.after(this.params.txSetupPs, this, TX_DMA);
  }

  private txDma(): void {
    const cur = this.txCurrent!;
    const { cmd, txId } = cur;
    const now = this.engine.now;
    const bad = this.checkTx(cmd);
    if (bad !== null) {
      this.post({ kind: 'tx-error', txId, cookie: cmd.cookie, reason: bad, at: now });
      this.startNextTx();
      return;
    }
    // The DMA engine reads the payload out of host memory: the bytes on the wire.
    const payload = new Uint8Array(cmd.payloadLen);
    this.memory.read(cmd.payloadAddr, payload);
    const wireBytes = cmd.header.length + cmd.payloadLen;
    const dma = transferPs(cmd.payloadLen, this.params.dmaBandwidth);
    const inject = transferPs(wireBytes, this.params.injectionBandwidth);
    const msg: NicMessage = {
      src: this.node,
      dst: cmd.dst,
      wireBytes,
      at: this.node,
      tailEnd: now + Math.max(dma, inject),
      hops: 0,
      injectedAt: now,
      header: cmd.header,
      payload,
      txId,
      cookie: cmd.cookie,
    };
    cur.msg = msg;
    this.stats.txMessages++;
    this.stats.txBytes += wireBytes;
    this.network.inject(msg);
    this.engine.at(msg.tailEnd, this, TX_DONE);
  }

  private checkTx(cmd: TxCommand): string | null {
    if (!Number.isInteger(cmd.dst) || cmd.dst < 0 || cmd.dst >= this.network.topology.size) return `no node ${cmd.dst}`;
    if (!Number.isSafeInteger(cmd.payloadLen) || cmd.payloadLen < 0) return `bad payload length ${cmd.payloadLen}`;
    if (!Number.isSafeInteger(cmd.payloadAddr) || cmd.payloadAddr < 0 || cmd.payloadAddr + cmd.payloadLen > this.memory.size) {
      return `payload 0x${cmd.payloadAddr.toString(16)}+${cmd.payloadLen} is outside physical memory`;
    }
    return null;
  }

  /** Called by the machine when the network delivers a message's head here. */
  arrive(msg: NicMessage, tailTime: number): void {
    if (isUnet(msg)) return this.unet.arrive(msg, tailTime);
    const rxId = this.nextRxId++;
    this.rx.set(rxId, { rxId, msg, tailTime, state: 'arriving', depositAddr: 0, depositLen: 0 });
    this.engine.after(this.params.rxHeaderPs, this, RX_HEADER, rxId);
  }

  /** Called by the machine when a message this NIC sent cannot be delivered. */
  undeliverable(msg: NicMessage, reason: string): void {
    if (isUnet(msg)) return this.unet.undeliverable(msg);
    this.stats.undeliverable++;
    this.post({ kind: 'tx-undeliverable', txId: msg.txId, cookie: msg.cookie, dst: msg.dst, reason, at: this.engine.now });
  }

  /** Received headers the host has not yet taken. */
  takeRxHeaders(): RxHeader[] {
    return this.rxHeaders.splice(0);
  }

  peekRxHeaders(): readonly RxHeader[] {
    return this.rxHeaders;
  }

  takeCompletions(): NicCompletion[] {
    return this.completions.splice(0);
  }

  /**
   * Tells the NIC to DMA up to `maxLen` payload bytes of message `rxId` to
   * physical `addr`. Returns false if the message is unknown or already handled.
   */
  deposit(rxId: number, addr: number, maxLen: number): boolean {
    const p = this.rx.get(rxId);
    if (p === undefined || p.state !== 'waiting') return false;
    const len = Math.max(0, Math.min(maxLen, p.msg.payload.length));
    if (!Number.isSafeInteger(addr) || addr < 0 || addr + len > this.memory.size) {
      this.rx.delete(rxId);
      this.post({ kind: 'rx-error', rxId, reason: `deposit 0x${addr.toString(16)}+${len} is outside physical memory`, at: this.engine.now });
      return true;
    }
    p.state = 'depositing';
    p.depositAddr = addr;
    p.depositLen = len;
    const now = this.engine.now;
    const start = Math.max(now + this.params.rxSetupPs, this.rxDmaFreeAt);
    const done = Math.max(start + transferPs(len, this.params.dmaBandwidth), p.tailTime);
    this.rxDmaFreeAt = done;
    this.engine.at(done, this, RX_DONE, rxId);
    return true;
  }

  /** Drops the payload of message `rxId`. */
  discard(rxId: number): boolean {
    const p = this.rx.get(rxId);
    if (p === undefined || p.state !== 'waiting') return false;
    this.rx.delete(rxId);
    this.stats.rxDiscarded++;
    return true;
  }

  fire(kind: number, arg: number): void {
    switch (kind) {
      case TX_DMA:
        this.txDma();
        return;
      case TX_DONE: {
        const cur = this.txCurrent!;
        this.post({ kind: 'tx-done', txId: cur.txId, cookie: cur.cmd.cookie, at: this.engine.now });
        this.startNextTx();
        return;
      }
      case RX_HEADER: {
        const p = this.rx.get(arg)!;
        p.state = 'waiting';
        this.stats.rxMessages++;
        this.rxHeaders.push({ rxId: p.rxId, src: p.msg.src, header: p.msg.header, payloadLen: p.msg.payload.length, arrivedAt: this.engine.now });
        if (this.irq) this.raiseIrq(this.irq.core, this.irq.rxVector);
        return;
      }
      case RX_DONE: {
        const p = this.rx.get(arg)!;
        this.rx.delete(arg);
        // The RX DMA engine writes the bytes into host memory.
        this.memory.write(p.depositAddr, p.msg.payload.subarray(0, p.depositLen));
        this.stats.rxBytes += p.depositLen;
        this.post({ kind: 'rx-done', rxId: arg, bytes: p.depositLen, at: this.engine.now });
        return;
      }
    }
  }

  describe(kind: number, arg: number): string {
    const names = ['TX DMA starts', 'TX done', 'RX header ready', 'RX DMA done'];
    return `nic ${this.node}: ${names[kind]}${kind >= RX_HEADER ? ` (rx ${arg})` : ''}`;
  }

  private post(c: NicCompletion): void {
    this.completions.push(c);
    if (this.irq) this.raiseIrq(this.irq.core, this.irq.completionVector);
  }
}

function isUnet(msg: NicMessage): msg is NicMessage & UnetMessage {
  return (msg as Partial<UnetMessage>).unet !== undefined;
}
