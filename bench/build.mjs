// Bundles the benchmarks into one CommonJS file (bench-dist/bench.cjs) with the wasm binaries beside
// it: the same bundle runs here and, with ../shared/gpu-server's packed node, on a GPU server.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

const here = dirname(new URL(import.meta.url).pathname);
const out = join(here, 'bench-dist');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, 'src/main.ts')],
  outfile: join(out, 'bench.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
  conditions: ['@tsformer/source'],
  logLevel: 'warning',
  // core-tensor finds the wasm binaries through import.meta only when no wasmPaths is given; the
  // bundle always passes its own folder, so the empty import.meta of CJS output is never read.
  logOverride: { 'empty-import-meta': 'silent' },
});
// The wasm backend is core-tensor's dependency: resolve it from there.
const require = createRequire(join(here, '../packages/core-tensor/package.json'));
const wasmDist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
for (const file of readdirSync(wasmDist).filter((name) => name.endsWith('.wasm'))) {
  copyFileSync(join(wasmDist, file), join(out, file));
}
console.log(`bundled ${join(out, 'bench.cjs')}`);
