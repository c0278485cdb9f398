// `margay machine`: describes a machine (shape, topology, diameter, per-node
// resources and every profile parameter with its source) without running it.

import { PARAMETERS, type ParamName, type Profile } from '../../hw/profile.ts';
import { formatShape, type Shape, Topology } from '../../hw/topology.ts';
import { MACHINE_HELP, MACHINE_OPTIONS, flag, machineChoice, parse } from '../args.ts';
import { type Output, formatBytes, formatRate, table } from '../output.ts';

export const HELP = `usage: margay machine [machine options] [--params] [--json]

Prints the machine a run would boot: node count, shape, topology, diameter,
links, per-node resources and the profile's parameters with their sources.

  --params           list every parameter with its unit, range and source
  --json             print one JSON document on stdout

${MACHINE_HELP}`;

export interface MachineDescription {
  profile: string;
  description: string;
  topology: string;
  shape: string;
  dims: number[];
  nodes: number;
  diameter: number;
  links: number;
  per_node: { cores: number; memory_bytes: number; tlb_entries: number; clock_hz: number };
  parameters: Record<string, { value: number; unit: string; source: string }>;
}

export function describeMachine(profile: Profile, shape: Shape): MachineDescription {
  const topo = new Topology(shape);
  const v = profile.values;
  const parameters: MachineDescription['parameters'] = {};
  for (const key of Object.keys(PARAMETERS) as ParamName[]) {
    parameters[key] = { value: v[key], unit: PARAMETERS[key].unit, source: profile.sources[key] };
  }
  return {
    profile: profile.name,
    description: profile.description,
    topology: topo.kind,
    shape: formatShape(shape),
    dims: [...topo.dims],
    nodes: topo.size,
    diameter: topo.diameter,
    links: topo.linkCount,
    per_node: { cores: v['cpu.cores'], memory_bytes: v['memory.bytes'], tlb_entries: v['tlb.entries'], clock_hz: v['cpu.clockHz'] },
    parameters,
  };
}

export function machineLines(d: MachineDescription, withParams: boolean): string[] {
  const lines = [
    `${d.profile}: ${d.description}`,
    `  ${d.nodes} nodes, ${d.shape} (${d.dims.length}-D ${d.topology}), diameter ${d.diameter} hops, ${d.links} directed links`,
    `  per node: ${d.per_node.cores} cores at ${d.per_node.clock_hz / 1e6} MHz, ${formatBytes(d.per_node.memory_bytes)} memory, ${d.per_node.tlb_entries}-entry TLB per core`,
    `  links ${formatRate(d.parameters['net.linkBandwidth'].value)} per direction, hop ${(d.parameters['net.routerLatencyPs'].value + d.parameters['net.wireLatencyPs'].value) / 1000} ns; NIC DMA ${formatRate(d.parameters['nic.dmaBandwidth'].value)}, injection ${formatRate(d.parameters['nic.injectionBandwidth'].value)}`,
  ];
  if (withParams) {
    lines.push('', ...table([['parameter', 'value', 'unit', 'source'], ...Object.entries(d.parameters).map(([k, p]) => [k, String(p.value), p.unit, p.source])]));
  }
  return lines;
}

export function run(argv: string[], out: Output): number {
  const p = parse(argv, { ...MACHINE_OPTIONS, params: { type: 'boolean' }, json: { type: 'boolean' } }, 0);
  const choice = machineChoice(p);
  const d = describeMachine(choice.profile, choice.shape);
  if (flag(p, 'json')) out.json(d);
  else for (const l of machineLines(d, flag(p, 'params'))) out.say(l);
  return 0;
}
