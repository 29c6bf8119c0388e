import type { ModelFiles, Pretrained, PretrainedTokenizer } from '@tsformer/models';
import type { StartedBackend } from './backends.js';
import { byTestId, messageOf } from './dom.js';
import type { GenerationRun } from './run-generation.js';

export interface LoadedModel {
  pretrained: Pretrained;
  tokenizer: PretrainedTokenizer;
  files: ModelFiles;
}

/** What the page's panels share: the backend, the model, the run in progress and the last run. */
export const page: {
  backend?: StartedBackend;
  loaded?: LoadedModel;
  /** Set while a generation (or a chat turn) runs: Stop aborts it. */
  running?: AbortController;
  lastRun?: { prompt: string; run: GenerationRun };
} = {};

const modelListeners: (() => void)[] = [];

/** Calls `listener` whenever another model replaces the loaded one (which is then already freed). */
export function whenModelChanges(listener: () => void): void {
  modelListeners.push(listener);
}

/** Makes `next` the loaded model, freeing the one before. */
export function replaceModel(next: LoadedModel): void {
  page.loaded?.pretrained.model.dispose();
  page.loaded = next;
  page.lastRun = undefined;
  for (const listener of modelListeners) listener();
}

/** `<body data-state>`: starting, loading, ready, running, done (a run ended) or error (a load failed). */
export function setState(state: string): void {
  document.body.dataset.state = state;
}

export function showError(error: unknown): void {
  const box = byTestId('error');
  box.textContent = messageOf(error);
  box.hidden = false;
}

export function clearError(): void {
  const box = byTestId('error');
  box.hidden = true;
  box.textContent = '';
}

/** Enables Generate when a model is loaded and nothing runs, Stop while something does. */
export function updateButtons(): void {
  byTestId<HTMLButtonElement>('generate').disabled = page.running !== undefined || page.loaded === undefined;
  byTestId<HTMLButtonElement>('stop').disabled = page.running === undefined;
}

/**
 * Runs a generation (a prompt's, or a chat turn's) on the loaded model, one at a time: Stop aborts
 * it through its signal (`stopped` is then called); any other failure is shown. Sets
 * `data-state="done"` when it ends, however it ends.
 */
export async function runExclusive(
  task: (loaded: LoadedModel, signal: AbortSignal) => Promise<void>,
  stopped: () => void,
): Promise<void> {
  const loaded = page.loaded;
  if (!loaded || page.running) return;
  clearError();
  const running = new AbortController();
  page.running = running;
  setState('running');
  updateButtons();
  try {
    await task(loaded, running.signal);
  } catch (error) {
    if (running.signal.aborted) stopped();
    else showError(error);
  } finally {
    page.running = undefined;
    updateButtons();
    setState('done');
  }
}
