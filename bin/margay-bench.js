#!/usr/bin/env node
// Runs bench/run.ts under tsx and passes its arguments through.
import { register } from 'tsx/esm/api';

register();
await import('../bench/run.ts');
