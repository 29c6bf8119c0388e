// Headless Chromium for the page tests: Debian's `chromium` driven by playwright-core, with WebGPU
// on SwiftShader (../shared/webgpu-on-cpu/README.md). Absent Chromium, the suite skips and says so.
import { existsSync } from 'node:fs';
import { type Browser, type ConsoleMessage, chromium, type Page } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser (CHROMIUM_PATH overrides it). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const hasChromium = existsSync(CHROMIUM_PATH);

/** The line printed when the suite cannot run. */
export const SKIP_LINE = `demo page tests SKIPPED: no Chromium at ${CHROMIUM_PATH} (install the Debian package: apt-get install chromium)`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--enable-unsafe-webgpu',
      '--enable-features=Vulkan,WebGPU',
      '--use-webgpu-adapter=swiftshader',
      '--enable-unsafe-swiftshader',
    ],
  });
}

/**
 * Files a model folder may lack, which loading asks for: the page's request for one is a 404 that
 * Chromium reports on the console ("Failed to load resource"). Only these 404s are not errors.
 */
const OPTIONAL_FILES = [
  'generation_config.json',
  'tokenizer_config.json',
  'chat_template.jinja',
  'model.safetensors.index.json',
  'model.safetensors',
];

/** Records the page's console errors and uncaught exceptions (the expected 404s of optional files aside). */
export function recordProblems(page: Page, into: string[]): void {
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() !== 'error') return;
    const url = message.location().url;
    const optional =
      /status of 404/.test(message.text()) && OPTIONAL_FILES.some((name) => url.endsWith(`/${name}`));
    if (!optional) into.push(`console error: ${message.text()} (${url})`);
  });
  page.on('pageerror', (error) => into.push(`uncaught: ${error.message}`));
}

/** Waits for `<body data-state>` to be one of `states`. */
export async function waitForState(
  page: Page,
  states: readonly string[],
  timeout = 240_000,
): Promise<string> {
  await page.waitForFunction((wanted) => wanted.includes(document.body.dataset.state ?? ''), states, {
    timeout,
  });
  return page.evaluate(() => document.body.dataset.state ?? '');
}

/** Canvas pixels that are not white (the heat map's cells and labels). */
export function inkedPixels(page: Page, testId: string): Promise<number> {
  return page.evaluate((id) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`[data-testid="${id}"]`)!;
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i]! < 250 || pixels[i + 1]! < 250 || pixels[i + 2]! < 250) inked += 1;
    }
    return inked;
  }, testId);
}
