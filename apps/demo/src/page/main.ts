// The demo page: load a model (bundled, a local folder, a URL), generate with every HF option, look
// inside (candidates, tokens, attention maps, the model card) and chat — all in this browser tab.
import { GenerationAbortedError } from '@tsformer/decoding';
import {
  fromPretrained,
  type LoadProgress,
  type ModelFiles,
  type Pretrained,
  type PretrainedTokenizer,
} from '@tsformer/models';
import { drawAttention } from './attention-canvas.js';
import { type AttentionKind, attentionMaps } from './attention-maps.js';
import { backendName, describeBackend, type StartedBackend, startBackend } from './backends.js';
import { ChatSession } from './chat-session.js';
import { byTestId, make, messageOf } from './dom.js';
import { buildGenerationForm, readGenerationForm } from './generation-form.js';
import { modelCard } from './model-card.js';
import { bundledModel, droppedFolder, pickedFolder, urlModel } from './model-sources.js';
import { OutputView, tokenLabel } from './output-view.js';
import { type GenerationRun, runGeneration, tokensPerSecond } from './run-generation.js';

/** Attention maps are computed for sequences up to this long (a longer one would draw unreadably small). */
const MAX_ATTENTION_TOKENS = 160;

interface Loaded {
  pretrained: Pretrained;
  tokenizer: PretrainedTokenizer;
  files: ModelFiles;
}

const query = new URLSearchParams(location.search);
const optionsForm = byTestId<HTMLFormElement>('options');
const promptBox = byTestId<HTMLTextAreaElement>('prompt');
const generateButton = byTestId<HTMLButtonElement>('generate');
const stopButton = byTestId<HTMLButtonElement>('stop');
const errorBox = byTestId('error');
let backend: StartedBackend | undefined;
let loaded: Loaded | undefined;
let running: AbortController | undefined;
let lastRun: { prompt: string; run: GenerationRun } | undefined;
let attention: { kinds: AttentionKind[]; run: GenerationRun } | undefined;
let chat: ChatSession | undefined;

/** `<body data-state>`: starting, loading, ready, running, done (a run ended) or error (a load failed). */
function setState(state: string): void {
  document.body.dataset.state = state;
}

function showError(error: unknown): void {
  errorBox.textContent = messageOf(error);
  errorBox.hidden = false;
}

function clearError(): void {
  errorBox.hidden = true;
  errorBox.textContent = '';
}

// ---- loading -------------------------------------------------------------------------------------

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

/** Loads a model folder; the one loaded before stays in use until the new one has loaded. */
async function load(
  source: (onProgress: (event: LoadProgress) => void) => ModelFiles | Promise<ModelFiles>,
): Promise<void> {
  if (running) return;
  clearError();
  setState('loading');
  generateButton.disabled = true;
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
    setState('ready');
    await showModelCard();
  } catch (error) {
    status.textContent = loaded ? `still using ${loaded.files.location}` : '';
    showError(explainMemoryError(error));
    setState('error');
  } finally {
    generateButton.disabled = loaded === undefined;
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

function replaceModel(next: Loaded): void {
  chat?.dispose();
  chat = undefined;
  byTestId('chat-log').replaceChildren();
  loaded?.pretrained.model.dispose();
  loaded = next;
  lastRun = undefined;
  attention = undefined;
}

async function showModelCard(): Promise<void> {
  if (!loaded) return;
  const rows = await modelCard(loaded.pretrained, loaded.files);
  byTestId('model-card').replaceChildren(
    ...rows.map(([name, value]) => {
      const row = make('tr');
      row.append(make('td', name), make('td', value));
      return row;
    }),
  );
}

// ---- generation ----------------------------------------------------------------------------------

async function generateNow(): Promise<void> {
  if (!loaded || running) return;
  clearError();
  const { pretrained, tokenizer } = loaded;
  const prompt = promptBox.value;
  const output = new OutputView(byTestId('output'), byTestId('candidates'), tokenizer);
  const sequences = byTestId('sequences');
  const stats = byTestId('stats');
  sequences.replaceChildren();
  stats.textContent = '';
  running = new AbortController();
  setRunning(true);
  try {
    const request = readGenerationForm(optionsForm);
    const isSeq2Seq = pretrained.family.task === 'seq2seq-lm';
    output.start(isSeq2Seq ? '' : prompt);
    const run = await runGeneration(pretrained, tokenizer, tokenizer.encode(prompt), request, {
      signal: running.signal,
      onToken: (choice) => output.add(choice),
    });
    output.finish(isSeq2Seq ? '' : prompt, run.texts[0]!);
    if (run.texts.length > 1 || run.scores) {
      sequences.replaceChildren(
        ...run.texts.map((text, row) => {
          // As `tsformer generate` prints each sequence: the score, then the prompt and the text.
          const score = run.scores?.[row];
          return make(
            'li',
            `${score === undefined ? '' : `(score ${score.toFixed(4)}) `}${isSeq2Seq ? '' : prompt}${text}`,
          );
        }),
      );
    }
    const rate = tokensPerSecond(run);
    const newTokens = Math.max(...run.generated.map((ids) => ids.length));
    stats.textContent =
      `${newTokens} tokens in ${Math.round(run.totalMs)} ms, first after ${Math.round(run.firstTokenMs)} ms` +
      `${rate === undefined ? '' : `, then ${rate.toFixed(1)} tokens/s`} (${backend ? describeBackend(backend.info) : ''})`;
    lastRun = { prompt, run };
    attention = undefined;
    showTokens();
    if (!byTestId('view-inside').hidden) await showAttention();
  } catch (error) {
    if (error instanceof GenerationAbortedError) stats.textContent = 'stopped';
    else showError(error);
  } finally {
    running = undefined;
    setRunning(false);
    setState('done');
  }
}

function setRunning(isRunning: boolean): void {
  if (isRunning) setState('running');
  generateButton.disabled = isRunning || !loaded;
  stopButton.disabled = !isRunning;
}

// ---- look inside ---------------------------------------------------------------------------------

function showTokens(): void {
  if (!loaded || !lastRun) return;
  const { tokenizer } = loaded;
  const { run } = lastRun;
  const ids = [...run.promptIds, ...run.generated[0]!];
  byTestId('tokens').replaceChildren(
    ...ids.map((id, index) => {
      const token = make('span', tokenLabel(tokenizer, id));
      if (index >= run.promptIds.length) token.style.background = '#eef6e8';
      token.append(make('small', String(id)));
      return token;
    }),
  );
}

async function showAttention(): Promise<void> {
  if (!loaded || !lastRun) return;
  const { pretrained, tokenizer } = loaded;
  const { run } = lastRun;
  if (attention?.run !== run) {
    const isSeq2Seq = pretrained.family.task === 'seq2seq-lm';
    const sequence = run.sequences[0]!.slice(0, MAX_ATTENTION_TOKENS);
    const kinds = isSeq2Seq
      ? await attentionMaps(pretrained, run.promptIds.slice(0, MAX_ATTENTION_TOKENS), sequence)
      : await attentionMaps(pretrained, sequence);
    attention = { kinds, run };
    fillSelect(
      byTestId('attention-kind'),
      kinds.map((kind) => kind.name),
    );
  }
  const kind =
    attention.kinds[byTestId<HTMLSelectElement>('attention-kind').selectedIndex] ?? attention.kinds[0]!;
  const layerSelect = byTestId<HTMLSelectElement>('attention-layer');
  const headSelect = byTestId<HTMLSelectElement>('attention-head');
  fillSelect(
    layerSelect,
    kind.maps.map((_, layer) => `layer ${layer}`),
  );
  fillSelect(
    headSelect,
    kind.maps[0]!.map((_, head) => `head ${head}`),
  );
  const map = kind.maps[layerSelect.selectedIndex]![headSelect.selectedIndex]!;
  const labels = (ids: number[]) => ids.map((id) => tokenLabel(tokenizer, id));
  const canvas = byTestId<HTMLCanvasElement>('attention-map');
  drawAttention(canvas, map, labels(kind.queryIds), labels(kind.keyIds));
  canvas.dataset.drawn = `${kind.name} ${layerSelect.selectedIndex} ${headSelect.selectedIndex}`;
}

/** Sets a select's options, keeping the chosen index when it still exists. */
function fillSelect(select: HTMLSelectElement, labels: string[]): void {
  if (select.options.length === labels.length && [...select.options].every((o, i) => o.text === labels[i]))
    return;
  const chosen = select.selectedIndex;
  select.replaceChildren(...labels.map((label) => make('option', label)));
  select.selectedIndex = chosen >= 0 && chosen < labels.length ? chosen : 0;
}

// ---- chat ----------------------------------------------------------------------------------------

async function sendChat(): Promise<void> {
  if (!loaded || running) return;
  const input = byTestId<HTMLInputElement>('chat-input');
  const text = input.value.trim();
  if (text === '') return;
  const log = byTestId('chat-log');
  const status = byTestId('chat-status');
  clearError();
  running = new AbortController();
  setRunning(true);
  try {
    if (loaded.pretrained.family.task !== 'causal-lm') throw new Error('chat needs a decoder-only model');
    chat ??= new ChatSession(loaded.pretrained, loaded.tokenizer);
    const request = readGenerationForm(optionsForm);
    input.value = '';
    log.append(make('div', text, 'user'));
    const bubble = make('div', '', 'assistant');
    log.append(bubble);
    const ids: number[] = [];
    const { tokenizer } = loaded;
    const turn = await chat.say(text, request, {
      signal: running.signal,
      onToken: (choice) => {
        ids.push(choice.id);
        bubble.textContent = tokenizer.decode(ids, { skipSpecialTokens: true });
      },
    });
    bubble.textContent = turn.reply;
    status.textContent = `${turn.fedTokens} tokens read, ${turn.reusedTokens} reused from the KV cache${
      turn.droppedTurns > 0 ? `, ${turn.droppedTurns} oldest turns dropped` : ''
    }`;
  } catch (error) {
    if (error instanceof GenerationAbortedError) status.textContent = 'stopped';
    else showError(error);
  } finally {
    running = undefined;
    setRunning(false);
    setState('done');
  }
}

// ---- wiring --------------------------------------------------------------------------------------

async function switchBackend(name: string): Promise<void> {
  if (running) return;
  clearError();
  try {
    backend = await startBackend(backendName(name));
    showBackend();
    // Weights live on the backend that loaded them: load the model again on the new one.
    const current = loaded;
    if (current) await load(() => current.files);
  } catch (error) {
    showError(error);
  }
}

function showBackend(): void {
  if (!backend) return;
  byTestId('backend').textContent = describeBackend(backend.info);
  byTestId('backend').title = backend.skipped.join('\n');
  byTestId<HTMLSelectElement>('backend-select').value = backend.info.name;
}

function wireTabs(): void {
  for (const tab of document.querySelectorAll<HTMLButtonElement>('.tabs button')) {
    tab.addEventListener('click', () => {
      for (const other of document.querySelectorAll<HTMLButtonElement>('.tabs button')) {
        other.classList.toggle('active', other === tab);
      }
      for (const panel of document.querySelectorAll<HTMLElement>('[data-view-panel]')) {
        panel.hidden = panel.dataset.viewPanel !== tab.dataset.view;
      }
      if (tab.dataset.view === 'inside') showAttention().catch(showError);
    });
  }
}

function wireLoading(): void {
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
    if (event.dataTransfer) {
      const transfer = event.dataTransfer;
      load(() => droppedFolder(transfer));
    }
  });
  const urlForm = byTestId<HTMLFormElement>('url-form');
  urlForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const field = (name: string) => (urlForm.elements.namedItem(name) as HTMLInputElement).value;
    load((onProgress) => urlModel(field('base'), field('repo'), field('revision'), onProgress));
  });
}

async function main(): Promise<void> {
  buildGenerationForm(optionsForm, query);
  if (query.has('prompt')) promptBox.value = query.get('prompt')!;
  wireTabs();
  wireLoading();
  generateButton.addEventListener('click', () => generateNow());
  stopButton.addEventListener('click', () => running?.abort(new Error('stopped from the page')));
  byTestId('backend-select').addEventListener('change', (event) =>
    switchBackend((event.target as HTMLSelectElement).value),
  );
  for (const id of ['attention-kind', 'attention-layer', 'attention-head']) {
    byTestId(id).addEventListener('change', () => showAttention().catch(showError));
  }
  byTestId<HTMLFormElement>('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sendChat();
  });
  byTestId('chat-reset').addEventListener('click', () => {
    chat?.dispose();
    chat = undefined;
    byTestId('chat-log').replaceChildren();
  });
  backend = await startBackend(backendName(query.get('backend')));
  showBackend();
  await load(bundledModel);
  if (query.get('autorun') === '1' && loaded) await generateNow();
}

main().catch((error: unknown) => {
  showError(error);
  setState('error');
});
