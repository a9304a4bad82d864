#!/usr/bin/env node
// The compiled CLI (dist/ is written by `npm run build`, which `npm ci` runs as `prepare`): no
// TypeScript compiler at start-up, and no second process.
import '../dist/cli/main.js';
