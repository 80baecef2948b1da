// Copies the files tsc does not emit (SQL migrations) next to the compiled code.
import { cpSync } from 'node:fs';

cpSync('src/store/migrations', 'dist/src/store/migrations', { recursive: true });
// The configuration schema (src/pipeline/config-schema.ts reads it beside the compiled module).
cpSync('src/pipeline/schema', 'dist/src/pipeline/schema', { recursive: true });
