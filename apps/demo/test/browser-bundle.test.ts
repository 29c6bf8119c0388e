import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('the libraries bundle for a browser as they are', () => {
  it('esbuild bundles @tsformer/models and core-tensor for the browser with no node: import left', async () => {
    const result = await build({
      stdin: {
        contents:
          "export { fromPretrained, hubFiles, fileListFiles, folderFiles } from '@tsformer/models';\n" +
          "export { useBackend, saveSafetensors } from '@tsformer/core-tensor';",
        resolveDir: new URL('.', import.meta.url).pathname,
      },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0]!.text;
    // Node's built-ins are reached only through core-tensor's `#node-builtins`, whose browser side has none.
    expect(code).not.toMatch(/(import|require)\(\s*["']node:/);
    expect(code).not.toMatch(/from\s*["']node:/);
    expect(code).toContain('exists only in Node.js');
  });
});
