// Shared vitest settings: one project per package, with every @tsformer/* import resolved to the
// package's TypeScript source (the "@tsformer/source" export condition), so tests never need a build.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Exact-match aliases (a plain string alias would also catch subpaths such as `/testing`). */
function sourceAliases(): { find: RegExp; replacement: string }[] {
  const aliases: { find: RegExp; replacement: string }[] = [];
  for (const group of ['packages', 'apps']) {
    for (const dir of readdirSync(`${root}${group}`)) {
      const manifest = JSON.parse(readFileSync(`${root}${group}/${dir}/package.json`, 'utf8'));
      for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
        const source = (target as Record<string, string>)['@tsformer/source'];
        if (!source) continue;
        const specifier = `${manifest.name}${subpath.slice(1)}`.replace(/[/.-]/g, '\\$&');
        aliases.push({
          find: new RegExp(`^${specifier}$`),
          replacement: `${root}${group}/${dir}/${source.slice(2)}`,
        });
      }
    }
  }
  return aliases;
}

/**
 * `*.webgpu.test.ts` files need a WebGPU adapter (SwiftShader on CI): they run only in `npm test`'s webgpu
 * step, which sets `TSFORMER_WEBGPU_SUITE=1` with the environment of `scripts/webgpu-env.mjs`, and that step
 * runs nothing else.
 */
const WEBGPU_SUITE = process.env.TSFORMER_WEBGPU_SUITE === '1';
const WEBGPU_TESTS = '**/*.webgpu.test.ts';

export function packageProject(name: string) {
  return defineProject({
    resolve: { alias: sourceAliases() },
    // The same condition for a package's own `#imports` (core-tensor's `#node-builtins`).
    ssr: { resolve: { conditions: ['@tsformer/source', 'module', 'node', 'development|production'] } },
    test: {
      name,
      include: WEBGPU_SUITE ? [`src/${WEBGPU_TESTS}`] : ['src/**/*.test.ts', 'test/**/*.test.ts'],
      exclude: WEBGPU_SUITE ? [] : [WEBGPU_TESTS, '**/node_modules/**'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      pool: 'forks',
    },
  });
}
