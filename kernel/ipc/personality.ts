// The two personalities of the kernel-to-kernel transport, one table: how
// much a node may have in flight and what each step costs, read from the
// machine profile (docs/profiles.md gives every value's source).
//
// NORMA IPC (seed 002, section 2): a stop-and-wait protocol; one message at a
// time from a node to another node, a long message one page (or one window
// of n pages) at a time, each acknowledged before the next.
// DIPC over KKT: messages to different nodes, streams and node pairs in
// flight at once, and large windows for bulk data.

import type { ProfileValues } from '../../hw/profile.ts';

export const PERSONALITIES = ['norma', 'dipc'] as const;
export type PersonalityName = (typeof PERSONALITIES)[number];

export function isPersonality(s: string): s is PersonalityName {
  return (PERSONALITIES as readonly string[]).includes(s);
}

export interface Personality {
  readonly name: PersonalityName;
  /** Bytes one NIC message (block) carries at most. */
  readonly blockBytes: number;
  /** Blocks of one message sent before waiting for an ack. */
  readonly windowBlocks: number;
  /** One message at a time to each node (NORMA), or any number (DIPC). */
  readonly serialPerNode: boolean;
  /** Kernel cycles to build and send one block, to take one block in, and to handle one ack. */
  readonly txCycles: number;
  readonly rxCycles: number;
  readonly ackCycles: number;
  /** Kernel cycles of the Mach message path for one message (copy in, translate rights, queue, copy out). */
  readonly msgCycles: number;
}

const PAGE = 4096;

export function personality(name: PersonalityName, v: Readonly<ProfileValues>): Personality {
  if (name === 'norma') {
    return {
      name,
      blockBytes: v['ipc.norma.windowPages'] * PAGE,
      windowBlocks: 1,
      serialPerNode: true,
      txCycles: v['ipc.norma.txCycles'],
      rxCycles: v['ipc.norma.rxCycles'],
      ackCycles: v['ipc.norma.ackCycles'],
      msgCycles: v['ipc.norma.msgCycles'],
    };
  }
  return {
    name,
    blockBytes: v['ipc.dipc.blockPages'] * PAGE,
    windowBlocks: v['ipc.dipc.windowBlocks'],
    serialPerNode: false,
    txCycles: v['ipc.dipc.txCycles'],
    rxCycles: v['ipc.dipc.rxCycles'],
    ackCycles: v['ipc.dipc.ackCycles'],
    msgCycles: v['ipc.dipc.msgCycles'],
  };
}
