// Bundles the page (src/page/main.ts and what it imports from the built @tsformer packages) for the
// browser with esbuild, and copies its HTML, CSS and tfjs-backend-wasm's .wasm files next to it:
// dist/site/ is everything `npm run demo` serves besides the bundled model.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const demo = fileURLToPath(new URL('..', import.meta.url));
const site = join(demo, 'dist/site');
mkdirSync(join(site, 'wasm'), { recursive: true });

await build({
  entryPoints: [join(demo, 'src/page/main.ts')],
  outfile: join(site, 'main.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  // Neither minified nor `keepNames`: tfjs-backend-wasm starts its threads from the source text of its
  // Emscripten factory, which must not name helpers (`__name`, renamed identifiers) that exist only in
  // the bundle's scope.
  minify: false,
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css']) copyFileSync(join(demo, 'src/page', file), join(site, file));

// The .wasm files of the tfjs-backend-wasm that @tsformer/core-tensor depends on.
const coreTensor = createRequire(import.meta.url).resolve('@tsformer/core-tensor');
const wasmPackage = createRequire(coreTensor).resolve('@tensorflow/tfjs-backend-wasm/package.json');
const wasmDist = join(dirname(wasmPackage), 'dist');
for (const file of readdirSync(wasmDist).filter((name) => name.endsWith('.wasm'))) {
  copyFileSync(join(wasmDist, file), join(site, 'wasm', file));
}
console.log(`built ${site}`);
