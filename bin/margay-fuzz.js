#!/usr/bin/env node
// Runs test/fuzz/run.ts under tsx and passes its arguments through (npm run fuzz).
import { register } from 'tsx/esm/api';

register();
await import('../test/fuzz/run.ts');
