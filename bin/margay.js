#!/usr/bin/env node
// The margay CLI. Registers tsx so that Margay's TypeScript sources (and a
// user's own program.ts) load directly, and the package name `margay` for
// programs outside the checkout, then hands over to monitor/cli.ts.
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

register();
// `import ... from 'margay/userland'` works in a program saved anywhere.
registerHooks('../monitor/packagename.ts', import.meta.url);
const { main } = await import('../monitor/cli.ts');
process.exitCode = await main(process.argv.slice(2));
