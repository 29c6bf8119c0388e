import { drawAttention } from './attention-canvas.js';
import { type AttentionKind, attentionMaps } from './attention-maps.js';
import { byTestId, make } from './dom.js';
import { tokenLabel } from './output-view.js';
import { page, showError, whenModelChanges } from './page-state.js';
import type { GenerationRun } from './run-generation.js';

/** Attention maps are computed for sequences up to this long (a longer one would draw unreadably small). */
const MAX_ATTENTION_TOKENS = 160;

/** The last run's attention maps, computed when first shown. */
let attention: { kinds: AttentionKind[]; run: GenerationRun } | undefined;

/** After a run: its tokens, and its attention maps when the panel is open. */
export async function showRunInside(): Promise<void> {
  showTokens();
  if (!byTestId('view-inside').hidden) await showAttention();
}

/** The last run's prompt and generated tokens with their ids. */
function showTokens(): void {
  if (!page.loaded || !page.lastRun) return;
  const { tokenizer } = page.loaded;
  const { run } = page.lastRun;
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

/** Draws the chosen kind, layer and head of the last run's attention (computing the maps once per run). */
export async function showAttention(): Promise<void> {
  if (!page.loaded || !page.lastRun) return;
  const { pretrained, tokenizer } = page.loaded;
  const { run } = page.lastRun;
  if (attention?.run !== run) {
    const sequence = run.sequences[0]!.slice(0, MAX_ATTENTION_TOKENS);
    const kinds =
      pretrained.family.task === 'seq2seq-lm'
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
  const same =
    select.options.length === labels.length && [...select.options].every((o, i) => o.text === labels[i]);
  if (same) return;
  const chosen = select.selectedIndex;
  select.replaceChildren(...labels.map((label) => make('option', label)));
  select.selectedIndex = chosen >= 0 && chosen < labels.length ? chosen : 0;
}

export function wireInsidePanel(): void {
  for (const id of ['attention-kind', 'attention-layer', 'attention-head']) {
    byTestId(id).addEventListener('change', () => showAttention().catch(showError));
  }
  whenModelChanges(() => {
    attention = undefined;
  });
}
