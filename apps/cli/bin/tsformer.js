#!/usr/bin/env node
// The `tsformer` command. A committed file, so package managers can link it before the build creates
// dist/: it loads the built CLI, or says how to build it.
import { existsSync } from 'node:fs';

const built = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(built)) {
  console.error(
    'tsformer: the CLI is not built yet; run `npm run setup` (or `npm test`) in the repository first',
  );
  process.exit(1);
}
await import(built.href);
