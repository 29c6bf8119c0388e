import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@tsformer/core-tensor';
import { expectNoLeak } from '@tsformer/core-tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECODER_FIXTURES, readJson } from '../test/decoder-fixtures.js';
import type { PretrainedCausalLM } from './causal-lm.js';
import { ModelDownloadError, ModelFileError } from './errors.js';
import { fromPretrained } from './from-pretrained.js';
import { hubFiles, type ModelFileCache } from './hub-files.js';
import type { LoadProgress } from './load-progress.js';
import { type HubLayoutServer, startHubLayoutServer } from './testing/hub-layout-server.js';

const TINY = DECODER_FIXTURES['tiny-llama-docs'];
const greedy = readJson<{ generate: { input_ids: number[][]; sequences: number[][] }[] }>(
  `${TINY}/reference.json`,
).generate[0]!;

/** Cache Storage's `Cache`, in memory (Node has none). */
function memoryCache(): ModelFileCache & { urls(): string[] } {
  const responses = new Map<string, Response>();
  return {
    match: async (url) => responses.get(url)?.clone(),
    put: async (url, response) => {
      responses.set(url, response.clone());
    },
    urls: () => [...responses.keys()],
  };
}

let server: HubLayoutServer;
let broken: string;

beforeAll(async () => {
  await useBackend('wasm');
  broken = await mkdtemp(join(tmpdir(), 'tsformer-hub-'));
  await writeFile(join(broken, 'config.json'), await readFile(`${TINY}/config.json`));
  // A sharded checkpoint whose index names a shard that is not there.
  await writeFile(
    join(broken, 'model.safetensors.index.json'),
    JSON.stringify({ metadata: {}, weight_map: { 'model.norm.weight': 'model-00009-of-00009.safetensors' } }),
  );
  server = await startHubLayoutServer(
    { 'docs/tiny-llama-docs': TINY, 'docs/broken': broken },
    { '/docs/tiny-llama-docs/resolve/oops/config.json': 500 },
  );
});

afterAll(async () => {
  await server.close();
  await rm(broken, { recursive: true, force: true });
});

describe('hubFiles', () => {
  it('loads a sharded repository in HF layout that generates HF greedy ids; the second load comes from the cache', async () => {
    await expectNoLeak(async () => {
      const cache = memoryCache();
      const events: LoadProgress[] = [];
      const load = () => {
        const files = hubFiles('docs/tiny-llama-docs', {
          baseUrl: server.baseUrl,
          cache,
          onProgress: (e) => events.push(e),
        });
        return fromPretrained(files, { onProgress: (e) => events.push(e) });
      };
      const first = await load();
      const requested = server.requests.length;
      const { sequences } = await (first.model as PretrainedCausalLM).generateAll(
        { inputIds: greedy.input_ids },
        { maxNewTokens: 40 },
      );
      expect(sequences).toEqual(greedy.sequences);
      first.model.dispose();
      // Both shards through the index, each file requested once; absent files (404) once too.
      const shard = '/docs/tiny-llama-docs/resolve/main/model-00002-of-00002.safetensors';
      expect(server.requests.filter((path) => path === shard)).toHaveLength(1);
      expect(server.requests).toContain('/docs/tiny-llama-docs/resolve/main/chat_template.jinja');
      expect(new Set(server.requests).size).toBe(server.requests.length);
      const shardBytes = (await readFile(`${TINY}/model-00002-of-00002.safetensors`)).byteLength;
      expect(events).toContainEqual({
        kind: 'bytes',
        file: 'model-00002-of-00002.safetensors',
        loadedBytes: shardBytes,
        totalBytes: shardBytes,
        fromCache: false,
      });
      const tensors = events.filter((e) => e.kind === 'tensors');
      const tensorCount = Object.keys(
        readJson<{ weight_map: object }>(`${TINY}/model.safetensors.index.json`).weight_map,
      ).length;
      expect(tensors.at(-1)).toEqual({
        kind: 'tensors',
        loadedTensors: tensorCount,
        totalTensors: tensorCount,
      });

      events.length = 0;
      const second = await load();
      second.model.dispose();
      expect(server.requests.length).toBe(requested);
      expect(events.filter((e) => e.kind === 'bytes').every((e) => e.fromCache)).toBe(true);
      expect(cache.urls()).toContain(`${server.baseUrl}${shard}`);
    });
  });

  it('names the URL of a file the server fails to give, and of a missing shard', async () => {
    const failing = hubFiles('docs/tiny-llama-docs', {
      baseUrl: server.baseUrl,
      revision: 'oops',
      cache: false,
    });
    const error = await fromPretrained(failing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelDownloadError);
    expect((error as ModelDownloadError).status).toBe(500);
    expect(String(error)).toContain(
      `${server.baseUrl}/docs/tiny-llama-docs/resolve/oops/config.json: HTTP 500`,
    );

    const shardless = hubFiles('docs/broken', { baseUrl: server.baseUrl, cache: false });
    await expect(fromPretrained(shardless)).rejects.toThrow(ModelFileError);
    await expect(fromPretrained(shardless)).rejects.toThrow(
      `${server.baseUrl}/docs/broken/resolve/main/model.safetensors.index.json names shard "model-00009-of-00009.safetensors", which is missing`,
    );
  });

  it('says when the server cannot be reached, naming the URL', async () => {
    const unreachable = hubFiles('docs/x', { baseUrl: 'http://127.0.0.1:9', cache: false });
    await expect(unreachable.readText('config.json')).rejects.toThrow(
      /^http:\/\/127\.0\.0\.1:9\/docs\/x\/resolve\/main\/config\.json: could not be fetched/,
    );
  });
});
