import { fuzzEbpf } from './test/fuzz/ebpf.fuzz.ts';
let tot = 0, acc = 0; const probs: string[] = [];
for (let seed = 100; seed < 106; seed++) { const c = fuzzEbpf(seed, 500); tot += c.programs; acc += c.accepted; probs.push(...c.problems); }
console.log(tot, acc, probs.length);
for (const p of probs.slice(0, 5)) console.log(p.slice(0, 1500));
