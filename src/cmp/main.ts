#!/usr/bin/env node
/**
 * `forge-cmp discover|generate`: the Argo CD config-management plugin's own entry point. It
 * loads only the plugin's modules (no server, no CUE engine), because Argo CD starts it for
 * every render.
 */
import { runCmp } from './run.js';

process.exitCode = await runCmp(process.argv.slice(2), process.cwd()); // settings: src/cmp/settings.ts
