import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type HubLayoutServer, startHubLayoutServer } from '@tsformer/models/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoServer, startDemoServer } from '../src/server/demo-server.js';
import {
  hasChromium,
  inkedPixels,
  launchChromium,
  recordProblems,
  SKIP_LINE,
  waitForState,
} from './browser.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEMO = fileURLToPath(new URL('../', import.meta.url));
const MODEL = join(ROOT, 'models/tiny-llama-docs');
/** Screenshots of each view (git-ignored). */
const SHOTS = join(DEMO, 'test-output');
const PROMPT = 'Compute the standard deviation';

if (!hasChromium) console.warn(`\n${SKIP_LINE}\n`);

/** What `tsformer generate` prints for the prompt with these flags. */
function cliOutput(...flags: string[]): string {
  const cli = spawnSync(
    process.execPath,
    [join(ROOT, 'apps/cli/bin/tsformer.js'), 'generate', '--prompt', PROMPT, ...flags],
    {
      encoding: 'utf8',
      env: { ...process.env, TSFORMER_BACKEND: 'wasm' },
    },
  );
  if (cli.status !== 0) throw new Error(`tsformer generate failed: ${cli.stderr}`);
  return cli.stdout.replace(/\n$/, '');
}

/** The greedy text `tsformer generate` prints (the prompt, then the text). */
function cliText(maxNewTokens: number): string {
  return cliOutput('--max-new-tokens', String(maxNewTokens));
}

describe.skipIf(!hasChromium)('the demo page in headless Chromium', () => {
  let server: DemoServer;
  let hub: HubLayoutServer;
  let browser: Browser;
  let scratch: string;
  const problems: string[] = [];

  async function openPage(query: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    recordProblems(page, problems);
    await page.goto(`${server.url}?${query}`);
    return page;
  }

  const outputText = (page: Page) => page.locator('[data-testid="output"]').textContent();

  beforeAll(async () => {
    if (!existsSync(join(DEMO, 'dist/site/main.js'))) {
      const build = spawnSync(process.execPath, [join(DEMO, 'scripts/build-site.mjs')], { encoding: 'utf8' });
      if (build.status !== 0) throw new Error(`building the page failed: ${build.stderr}`);
    }
    await mkdir(SHOTS, { recursive: true });
    scratch = await mkdtemp(join(tmpdir(), 'tsformer-demo-'));
    server = await startDemoServer({ pageFolder: join(DEMO, 'dist/site'), modelFolder: MODEL });
    hub = await startHubLayoutServer({ 'docs/tiny-llama-docs': MODEL });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await hub?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('on wasm: generates from a link exactly what the CLI prints, then shows candidates, tokens, attention, the card and a chat', async () => {
    const page = await openPage(
      `backend=wasm&prompt=${encodeURIComponent(PROMPT)}&max_new_tokens=12&autorun=1`,
    );
    expect(await waitForState(page, ['done', 'error'])).toBe('done');
    expect(await page.locator('[data-testid="backend"]').textContent()).toMatch(/^wasm/);
    expect(await outputText(page)).toBe(cliText(12));
    expect(await page.locator('[data-testid="stats"]').textContent()).toMatch(
      /12 tokens in \d+ ms, first after \d+ ms, then [\d.]+ tokens\/s/,
    );
    expect(await page.locator('[data-testid="candidates"] .bar').count()).toBe(10);
    await page.screenshot({ path: join(SHOTS, 'generate.png'), fullPage: true });

    await page.click('button[data-view="inside"]');
    await page.waitForSelector('[data-testid="attention-map"][data-drawn]');
    expect(await inkedPixels(page, 'attention-map')).toBeGreaterThan(1000);
    await page.selectOption('[data-testid="attention-layer"]', { index: 5 });
    await page.selectOption('[data-testid="attention-head"]', { index: 5 });
    await page.waitForSelector('[data-testid="attention-map"][data-drawn="self-attention 5 5"]');
    expect(await page.locator('[data-testid="tokens"] span').count()).toBeGreaterThan(12);
    await page.screenshot({ path: join(SHOTS, 'inside.png'), fullPage: true });

    await page.click('button[data-view="card"]');
    const parameters = JSON.parse(await readFile(join(MODEL, 'reference.json'), 'utf8'))
      .num_parameters as number;
    expect(await page.locator('[data-testid="model-card"]').textContent()).toContain(
      parameters.toLocaleString('en-US'),
    );
    await page.screenshot({ path: join(SHOTS, 'card.png'), fullPage: true });

    await page.click('button[data-view="chat"]');
    for (const message of ['Return the mean of', 'Compute the median']) {
      await page.fill('[data-testid="chat-input"]', message);
      await page.click('[data-testid="chat-form"] button[type="submit"]');
      await page.waitForFunction(
        () => document.querySelector('[data-testid="chat-status"]')?.textContent !== '',
      );
      await waitForState(page, ['done']);
    }
    // The second turn reads only what the cache does not hold: the first turn stays cached.
    expect(await page.locator('[data-testid="chat-status"]').textContent()).toMatch(
      /^\d+ tokens read, [1-9]\d* reused from the KV cache/,
    );
    expect(await page.locator('[data-testid="chat-log"] .assistant').count()).toBe(2);
    await page.screenshot({ path: join(SHOTS, 'chat.png'), fullPage: true });
    await page.close();
  });

  it('on WebGPU (SwiftShader): the same greedy text as the CLI', async () => {
    const page = await openPage(`prompt=${encodeURIComponent(PROMPT)}&max_new_tokens=3&autorun=1`);
    expect(await waitForState(page, ['done', 'error'], 280_000)).toBe('done');
    expect(await page.locator('[data-testid="backend"]').textContent()).toBe('webgpu');
    expect(await outputText(page)).toBe(cliText(3));
    await page.screenshot({ path: join(SHOTS, 'webgpu.png'), fullPage: true });
    await page.close();
  }, 300_000);

  it('loads a folder chosen through the file input, then the same files dropped on the drop zone, and generates from each', async () => {
    const page = await openPage('backend=wasm&max_new_tokens=6');
    await waitForState(page, ['ready']);
    await page.setInputFiles('[data-testid="folder-input"]', MODEL);
    await page.waitForFunction(() =>
      document
        .querySelector('[data-testid="load-status"]')
        ?.textContent?.startsWith('loaded tiny-llama-docs'),
    );
    await page.fill('[data-testid="prompt"]', PROMPT);
    await page.click('[data-testid="generate"]');
    expect(await waitForState(page, ['done'])).toBe('done');
    expect(await outputText(page)).toBe(cliText(6));

    // The same files dropped on the drop zone (loose files, as a script can build a drop).
    await page.evaluate(
      async (names) => {
        const transfer = new DataTransfer();
        for (const name of names) {
          const blob = await (await fetch(`hub/tsformer/tiny-llama-docs/resolve/main/${name}`)).blob();
          transfer.items.add(new File([blob], name));
        }
        const drop = new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true });
        document.querySelector('[data-testid="drop-zone"]')!.dispatchEvent(drop);
      },
      await readdir(MODEL),
    );
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="load-status"]')?.textContent?.startsWith('loaded dropped files'),
    );
    await page.click('[data-testid="generate"]');
    expect(await waitForState(page, ['done'])).toBe('done');
    expect(await outputText(page)).toBe(cliText(6));
    await page.close();
  });

  it('loads a repository from a URL, and the second load comes from Cache Storage', async () => {
    const page = await openPage('backend=wasm&max_new_tokens=6');
    await waitForState(page, ['ready']);
    const loadFromUrl = async () => {
      await page.fill('[data-testid="url-base"]', hub.baseUrl);
      await page.fill('[data-testid="url-repo"]', 'docs/tiny-llama-docs');
      await page.click('[data-testid="url-form"] button[type="submit"]');
      await page.waitForFunction(
        (base) =>
          document
            .querySelector('[data-testid="load-status"]')
            ?.textContent?.startsWith(`loaded ${base}/docs/`),
        hub.baseUrl,
      );
    };
    await loadFromUrl();
    const requests = hub.requests.length;
    expect(hub.requests).toContain('/docs/tiny-llama-docs/resolve/main/model-00002-of-00002.safetensors');
    await page.screenshot({ path: join(SHOTS, 'url.png'), fullPage: true });
    await page.reload();
    await waitForState(page, ['ready']);
    await loadFromUrl();
    expect(hub.requests.length).toBe(requests);
    await page.fill('[data-testid="prompt"]', PROMPT);
    await page.click('[data-testid="generate"]');
    expect(await waitForState(page, ['done'])).toBe('done');
    expect(await outputText(page)).toBe(cliText(6));
    await page.close();
  });

  it('shows a malformed folder’s error, naming the file, and keeps working with the model it had', async () => {
    const broken = join(scratch, 'broken-model');
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'config.json'), '{"model_type": "llama", "hidden_size": ');
    const page = await openPage('backend=wasm&max_new_tokens=6');
    await waitForState(page, ['ready']);
    await page.setInputFiles('[data-testid="folder-input"]', broken);
    expect(await waitForState(page, ['error'])).toBe('error');
    const error = await page.locator('[data-testid="error"]').textContent();
    expect(error).toMatch(/^ModelFileError: broken-model\/config\.json is not valid JSON/);
    await page.screenshot({ path: join(SHOTS, 'error.png'), fullPage: true });
    await page.fill('[data-testid="prompt"]', PROMPT);
    await page.click('[data-testid="generate"]');
    expect(await waitForState(page, ['done'])).toBe('done');
    expect(await outputText(page)).toBe(cliText(6));

    // Switching the backend loads the model again on it, and it gives the same text.
    await page.selectOption('[data-testid="backend-select"]', 'cpu');
    await waitForState(page, ['ready']);
    expect(await page.locator('[data-testid="backend"]').textContent()).toBe('cpu');
    await page.click('[data-testid="generate"]');
    expect(await waitForState(page, ['done'])).toBe('done');
    expect(await outputText(page)).toBe(cliText(6));
    await page.close();
  });

  it('a link with do_sample and seed samples the same tokens as the CLI with that seed', async () => {
    const page = await openPage(
      `backend=wasm&prompt=${encodeURIComponent(PROMPT)}&do_sample=true&seed=7&top_k=20&max_new_tokens=8&autorun=1`,
    );
    expect(await waitForState(page, ['done'])).toBe('done');
    expect(await outputText(page)).toBe(
      cliOutput('--do-sample', '--seed', '7', '--top-k', '20', '--max-new-tokens', '8'),
    );
    await page.close();
  });

  it('beam search lists each returned beam with its score as the CLI prints them; a bad option gets the library’s message; Stop cancels', async () => {
    const page = await openPage(
      `backend=wasm&prompt=${encodeURIComponent(PROMPT)}&num_beams=3&num_return_sequences=2&max_new_tokens=8&autorun=1`,
    );
    expect(await waitForState(page, ['done'])).toBe('done');
    // `--- sequence 1 (score -0.2149)\n<prompt and text>` per beam.
    const beams = cliOutput('--num-beams', '3', '--num-return-sequences', '2', '--max-new-tokens', '8')
      .split(/^--- sequence \d+ /m)
      .slice(1)
      .map((block) => block.replace(/\n$/, '').replace('\n', ' '));
    expect(beams).toHaveLength(2);
    expect(await page.locator('[data-testid="sequences"] li').allTextContents()).toEqual(beams);
    await page.screenshot({ path: join(SHOTS, 'beams.png'), fullPage: true });

    await page.fill('[data-testid="option-num_beams"]', '');
    await page.fill('[data-testid="option-num_return_sequences"]', '');
    await page.check('[data-testid="option-do_sample"]');
    await page.fill('[data-testid="option-top_p"]', '1.5');
    await page.click('[data-testid="generate"]');
    await waitForState(page, ['done']);
    expect(await page.locator('[data-testid="error"]').textContent()).toMatch(
      /^GenerationConfigError: .*top_p/,
    );

    await page.uncheck('[data-testid="option-do_sample"]');
    await page.fill('[data-testid="option-top_p"]', '');
    await page.fill('[data-testid="option-max_new_tokens"]', '400');
    await page.click('[data-testid="generate"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="output"] .token').length >= 3);
    await page.click('[data-testid="stop"]');
    await waitForState(page, ['done']);
    expect(await page.locator('[data-testid="stats"]').textContent()).toBe('stopped');
    expect(await page.locator('[data-testid="error"]').isHidden()).toBe(true);
    expect(await page.locator('[data-testid="output"] .token').count()).toBeLessThan(400);
    await page.close();
  });

  it('logged no console errors and threw nothing on any page', () => {
    expect(problems).toEqual([]);
  });
});
