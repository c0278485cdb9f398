// Hold-model benchmark of the event engine: a fixed population of pending
// events; each fired event schedules one more at a random increment.

import { Engine, type EventSink } from '../hw/engine.ts';
import { Rng } from '../hw/rng.ts';

export interface EngineBenchResult {
  pending_events: number;
  events: number;
  wall_s: number;
  events_per_s: number;
  /** Host CPU time of the measured part, and events per CPU second (the figure to compare on a shared host). */
  cpu_s: number;
  events_per_cpu_s: number;
  /** Every repetition's rates; the reported run is the one with the median CPU rate. */
  runs_events_per_s: number[];
  runs_events_per_cpu_s: number[];
}

/** Runs the hold model `reps` times on fresh engines and reports the median rate. */
export function benchEngineHold(pending = 100_000, events = 5_000_000, reps = 3): EngineBenchResult {
  const runs = Array.from({ length: reps }, (_, i) => holdOnce(pending, events, i + 1));
  const sorted = [...runs].sort((a, b) => a.events_per_cpu_s - b.events_per_cpu_s);
  const median = sorted[Math.floor(reps / 2)];
  return { ...median, runs_events_per_s: runs.map((r) => r.events_per_s), runs_events_per_cpu_s: runs.map((r) => r.events_per_cpu_s) };
}

function holdOnce(pending: number, events: number, seed: number): Omit<EngineBenchResult, 'runs_events_per_s' | 'runs_events_per_cpu_s'> {
  const engine = new Engine();
  const rng = new Rng(seed);
  // Increments uniform in [0, 2 us): the classic hold model's random holding time.
  const increments = new Float64Array(1 << 16);
  for (let i = 0; i < increments.length; i++) increments[i] = Math.floor(rng.nextFloat() * 2_000_000);
  let k = 0;
  const sink: EventSink = {
    fire(kind) {
      engine.after(increments[k++ & 0xffff], sink, kind);
    },
    describe: () => 'hold',
  };
  for (let i = 0; i < pending; i++) engine.after(increments[k++ & 0xffff], sink, 0);
  // Warm up, then measure.
  engine.runUntilIdle(events / 10);
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  engine.runUntilIdle(events);
  const cpuUsed = process.cpuUsage(cpu0);
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = (cpuUsed.user + cpuUsed.system) / 1e6;
  return { pending_events: pending, events, wall_s: round(wall, 3), events_per_s: Math.round(events / wall), cpu_s: round(cpu, 3), events_per_cpu_s: Math.round(events / cpu) };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
