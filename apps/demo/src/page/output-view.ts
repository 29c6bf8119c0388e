import type { PretrainedTokenizer } from '@tsformer/models';
import { make } from './dom.js';
import type { TokenChoice } from './token-probabilities.js';

/** A token's text as a label: quoted, with whitespace made visible. */
export function tokenLabel(tokenizer: PretrainedTokenizer, id: number): string {
  return JSON.stringify(tokenizer.decode([id]));
}

/** A background from red (improbable) to green (probable). */
function probabilityColour(probability: number): string {
  return `hsl(${Math.round(120 * probability)} 75% 80%)`;
}

/**
 * The output box: the prompt, then each generated token as it arrives, coloured by its probability;
 * clicking a token shows its candidates. Text is decoded from the ids so far, so a character split
 * over several byte-level tokens appears whole, with the token that completes it.
 */
export class OutputView {
  private ids: number[] = [];
  private shown = '';
  private selected: HTMLElement | undefined;

  constructor(
    private readonly box: HTMLElement,
    private readonly candidates: HTMLElement,
    private readonly tokenizer: PretrainedTokenizer,
  ) {}

  start(prompt: string): void {
    this.ids = [];
    this.shown = '';
    this.box.replaceChildren(make('span', prompt, 'prompt'));
    this.candidates.replaceChildren();
  }

  add(choice: TokenChoice): void {
    this.ids.push(choice.id);
    const text = this.tokenizer.decode(this.ids, { skipSpecialTokens: true });
    // A trailing U+FFFD is half a character: it is shown with the token that completes it.
    const piece = text.endsWith('\uFFFD') ? '' : text.slice(this.shown.length);
    if (piece !== '') this.shown = text;
    const span = make('span', piece, 'token');
    span.style.background = probabilityColour(choice.probability);
    span.title = `${tokenLabel(this.tokenizer, choice.id)} id ${choice.id}, p = ${choice.probability.toFixed(4)}`;
    const position = this.ids.length;
    span.addEventListener('click', () => this.showCandidates(span, choice, position));
    this.box.append(span);
    this.showCandidates(span, choice, position);
  }

  /** The run ended: the box must read exactly prompt + `text` (else it is rewritten plainly). */
  finish(prompt: string, text: string): void {
    if (this.box.textContent !== prompt + text)
      this.box.replaceChildren(make('span', prompt, 'prompt'), text);
  }

  private showCandidates(span: HTMLElement, choice: TokenChoice, position: number): void {
    this.selected?.classList.remove('selected');
    span.classList.add('selected');
    this.selected = span;
    const rows = choice.candidates.map(({ id, probability }) => {
      const row = make('div', '', id === choice.id ? 'bar chosen' : 'bar');
      const fill = make('div', '', 'fill');
      fill.style.width = `${(100 * probability).toFixed(1)}%`;
      const track = make('div');
      track.append(fill);
      row.append(make('span', tokenLabel(this.tokenizer, id)), track, make('span', probability.toFixed(3)));
      return row;
    });
    const title = make(
      'div',
      `Top candidates for new token ${position} (chosen: ${tokenLabel(this.tokenizer, choice.id)}, p = ${choice.probability.toFixed(4)})`,
      'status',
    );
    this.candidates.replaceChildren(title, ...rows);
  }
}
