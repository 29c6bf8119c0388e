import { fromPretrained, type LoadProgress, type ModelFiles } from '@tsformer/models';
import { backendName, describeBackend, startBackend } from './backends.js';
import { byTestId, make } from './dom.js';
import { modelCard } from './model-card.js';
import { bundledModel, droppedFolder, pickedFolder, urlModel } from './model-sources.js';
import { clearError, page, replaceModel, setState, showError, updateButtons } from './page-state.js';

type ModelSource = (onProgress: (event: LoadProgress) => void) => ModelFiles | Promise<ModelFiles>;

/** Byte progress per file and tensor progress, shown on one bar: downloads first, then tensors. */
function progressTracker(): (event: LoadProgress) => void {
  const bar = byTestId<HTMLProgressElement>('load-progress');
  const status = byTestId('load-status');
  const files = new Map<string, { loaded: number; total: number }>();
  bar.value = 0;
  return (event) => {
    if (event.kind === 'bytes') {
      files.set(event.file, { loaded: event.loadedBytes, total: event.totalBytes ?? event.loadedBytes });
      const loadedBytes = [...files.values()].reduce((sum, file) => sum + file.loaded, 0);
      const totalBytes = [...files.values()].reduce((sum, file) => sum + file.total, 0);
      bar.value = totalBytes === 0 ? 0 : (0.5 * loadedBytes) / totalBytes;
      const from = event.fromCache ? 'from the cache' : 'downloading';
      status.textContent = `${from}: ${event.file} (${(loadedBytes / 1e6).toFixed(1)} of ${(totalBytes / 1e6).toFixed(1)} MB)`;
    } else {
      bar.value = 0.5 + (0.5 * event.loadedTensors) / Math.max(1, event.totalTensors);
      status.textContent = `tensors: ${event.loadedTensors} of ${event.totalTensors}`;
    }
  };
}

/**
 * Loads a model folder and shows its card; the model loaded before stays in use until the new one
 * has loaded, and stays when it fails (`data-state="error"`, the error shown).
 */
export async function load(source: ModelSource): Promise<void> {
  if (page.running) return;
  clearError();
  setState('loading');
  byTestId<HTMLButtonElement>('generate').disabled = true;
  const onProgress = progressTracker();
  const status = byTestId('load-status');
  try {
    const files = await source(onProgress);
    const started = performance.now();
    const pretrained = await fromPretrained(files, { onProgress });
    if (pretrained.tokenizer === null) {
      pretrained.model.dispose();
      throw new Error(`${files.location} has no tokenizer.json: the page needs it to turn text into tokens`);
    }
    replaceModel({ pretrained, tokenizer: pretrained.tokenizer, files });
    byTestId<HTMLProgressElement>('load-progress').value = 1;
    status.textContent = `loaded ${files.location} (${pretrained.family.modelType}) in ${Math.round(performance.now() - started)} ms`;
    await showModelCard();
    setState('ready');
  } catch (error) {
    status.textContent = page.loaded ? `still using ${page.loaded.files.location}` : '';
    showError(explainMemoryError(error));
    setState('error');
  } finally {
    updateButtons();
  }
}

/**
 * The browser reports exhausted memory as a RangeError ("Array buffer allocation failed") or, from
 * WebAssembly and WebGPU, as an abort naming OOM: said plainly, with what to try.
 */
function explainMemoryError(error: unknown): unknown {
  const text = error instanceof Error ? error.message : String(error);
  if (!/allocation failed|out of memory|\bOOM\b/i.test(text)) return error;
  return new Error(
    `out of memory while loading the model (${text}): this tab cannot hold its weights; try a smaller model or another backend`,
  );
}

async function showModelCard(): Promise<void> {
  if (!page.loaded) return;
  const rows = await modelCard(page.loaded.pretrained, page.loaded.files);
  byTestId('model-card').replaceChildren(
    ...rows.map(([name, value]) => {
      const row = make('tr');
      row.append(make('td', name), make('td', value));
      return row;
    }),
  );
}

/** Starts the named backend (or the best one) and shows it; a loaded model is loaded again on it. */
export async function switchBackend(name: string | null): Promise<void> {
  if (page.running) return;
  clearError();
  try {
    page.backend = await startBackend(backendName(name));
    const badge = byTestId('backend');
    badge.textContent = describeBackend(page.backend.info);
    badge.title = page.backend.skipped.join('\n');
    byTestId<HTMLSelectElement>('backend-select').value = page.backend.info.name;
    // Weights live on the backend that loaded them.
    const current = page.loaded;
    if (current) await load(() => current.files);
  } catch (error) {
    showError(error);
  }
}

/** The bundled model's button, the folder input, the drop zone, the URL form and the backend select. */
export function wireLoadPanel(): void {
  byTestId('load-bundled').addEventListener('click', () => load(bundledModel));
  const folderInput = byTestId<HTMLInputElement>('folder-input');
  folderInput.addEventListener('change', () => load(() => pickedFolder(folderInput)));
  const dropZone = byTestId('drop-zone');
  dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.classList.add('over');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('over'));
  dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropZone.classList.remove('over');
    const transfer = event.dataTransfer;
    if (transfer) load(() => droppedFolder(transfer));
  });
  const urlForm = byTestId<HTMLFormElement>('url-form');
  urlForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const field = (name: string) => (urlForm.elements.namedItem(name) as HTMLInputElement).value;
    load((onProgress) => urlModel(field('base'), field('repo'), field('revision'), onProgress));
  });
  byTestId<HTMLSelectElement>('backend-select').addEventListener('change', (event) =>
    switchBackend((event.target as HTMLSelectElement).value),
  );
}
