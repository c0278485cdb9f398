#!/usr/bin/env node
// The margay CLI. Registers tsx so that Margay's TypeScript sources (and a
// user's own program.ts) load directly, then hands over to monitor/cli.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../monitor/cli.ts');
process.exitCode = await main(process.argv.slice(2));
