// `margay start` (what `npm start` runs): boots the default machine, sends a
// message across its diameter through the NICs and the mesh to show the
// hardware working, and describes the machine. Later issues make it run a job.

import { Machine } from '../../hw/machine.ts';
import { formatPs } from '../../hw/time.ts';
import { MACHINE_HELP, MACHINE_OPTIONS, flag, machineChoice, parse } from '../args.ts';
import { type Output } from '../output.ts';
import { describeMachine, machineLines } from './machine.ts';

export const HELP = `usage: margay start [machine options] [--json]

Boots the default machine (Red Storm, 10,368 nodes), DMAs a 4 KiB message
from node 0 to the farthest node and back through the NICs and the mesh,
and prints the machine and the measured one-way times.

${MACHINE_HELP}`;

export function run(argv: string[], out: Output): number {
  const p = parse(argv, { ...MACHINE_OPTIONS, json: { type: 'boolean' } }, 0);
  const choice = machineChoice(p);
  const m = new Machine(choice);
  const far = m.size - 1;
  const a = m.node(0);
  const b = m.node(far);
  const payload = new TextEncoder().encode('hello from node 0 '.repeat(228).slice(0, 4096));
  a.memory.write(0x10000, payload);
  a.nic.transmit({ dst: far, header: new Uint8Array(64), payloadAddr: 0x10000, payloadLen: payload.length, cookie: 1 });
  // The receiving host deposits the payload as soon as the header shows up.
  let arrived = -1;
  let deposited = -1;
  m.engine.runWhile(() => {
    for (const h of b.nic.takeRxHeaders()) {
      arrived = m.engine.now;
      b.nic.deposit(h.rxId, 0x20000, h.payloadLen);
    }
    for (const c of b.nic.takeCompletions()) if (c.kind === 'rx-done') deposited = c.at;
    return true;
  });
  const got = new Uint8Array(payload.length);
  b.memory.read(0x20000, got);
  const intact = got.every((x, i) => x === payload[i]);
  const d = describeMachine(choice.profile, choice.shape);
  const hops = m.topology.distance(0, far);
  const report = { machine: d, demo: { from: 0, to: far, hops, bytes: payload.length, header_ns: arrived / 1000, deposited_ns: deposited / 1000, intact } };
  if (flag(p, 'json')) {
    out.json(report);
    return intact ? 0 : 1;
  }
  for (const l of machineLines(d, false)) out.say(l);
  out.say('');
  out.say(`4 KiB DMA from node 0 to node ${far} (${hops} hops): header at ${formatPs(arrived)}, payload in memory at ${formatPs(deposited)}, bytes ${intact ? 'intact' : 'CORRUPTED'}`);
  out.say(`events: ${m.engine.fired}; nodes built: ${m.builtNodes} of ${m.size}`);
  out.say(`Try: margay machine --help`);
  return intact ? 0 : 1;
}
