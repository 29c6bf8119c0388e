// The demo page: load a model (bundled, a local folder, a URL), generate with every HF option, look
// inside (candidates, tokens, attention maps, the model card) and chat — all in this browser tab.
import { wireChatPanel } from './chat-panel.js';
import { byTestId } from './dom.js';
import { generateNow, wireGeneratePanel } from './generate-panel.js';
import { buildGenerationForm } from './generation-form.js';
import { showAttention, wireInsidePanel } from './inside-panel.js';
import { load, switchBackend, wireLoadPanel } from './load-panel.js';
import { bundledModel } from './model-sources.js';
import { page, setState, showError } from './page-state.js';

/** The tabs show one panel each; opening "Look inside" draws the last run's attention. */
function wireTabs(): void {
  const tabs = [...document.querySelectorAll<HTMLButtonElement>('.tabs button')];
  for (const tab of tabs) {
    tab.addEventListener('click', () => {
      for (const other of tabs) other.classList.toggle('active', other === tab);
      for (const panel of document.querySelectorAll<HTMLElement>('[data-view-panel]')) {
        panel.hidden = panel.dataset.viewPanel !== tab.dataset.view;
      }
      if (tab.dataset.view === 'inside') showAttention().catch(showError);
    });
  }
}

/**
 * Starts the page: the form from the query (`?prompt=…&max_new_tokens=…&do_sample=…&seed=…`,
 * `backend=…`), the backend, the bundled model, then a run when `autorun=1`.
 */
async function main(): Promise<void> {
  const query = new URLSearchParams(location.search);
  buildGenerationForm(byTestId<HTMLFormElement>('options'), query);
  if (query.has('prompt')) byTestId<HTMLTextAreaElement>('prompt').value = query.get('prompt')!;
  wireTabs();
  wireLoadPanel();
  wireGeneratePanel();
  wireInsidePanel();
  wireChatPanel();
  await switchBackend(query.get('backend'));
  await load(bundledModel);
  if (query.get('autorun') === '1' && page.loaded) await generateNow();
}

main().catch((error: unknown) => {
  showError(error);
  setState('error');
});
