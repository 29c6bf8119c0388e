import type { TokenDecoder } from './language-model.js';

const REPLACEMENT_CHARACTER = '\uFFFD';

/**
 * Turns generated tokens into text as soon as it decodes cleanly, as Hugging Face's TextStreamer
 * (one stream per row): text ending in U+FFFD (half of a multi-byte character) is held back until a
 * later token completes it; `end` flushes whatever is left.
 */
export class TextStreamer {
  private readonly tokens = new Map<number, number[]>();
  private readonly printed = new Map<number, number>();

  constructor(
    private readonly decoder: TokenDecoder,
    private readonly onText: (text: string, row: number) => void,
    private readonly skipSpecialTokens = true,
  ) {}

  /** Appends `tokens` to `row` and emits the text they complete. */
  put(row: number, tokens: readonly number[]): void {
    const rowTokens = this.tokens.get(row) ?? [];
    rowTokens.push(...tokens);
    this.tokens.set(row, rowTokens);
    const text = this.decode(row);
    if (!text.endsWith(REPLACEMENT_CHARACTER)) this.emit(row, text);
  }

  /** Emits every row's remaining text. */
  end(): void {
    for (const row of this.tokens.keys()) this.emit(row, this.decode(row));
  }

  private decode(row: number): string {
    return this.decoder.decode(this.tokens.get(row) ?? [], { skipSpecialTokens: this.skipSpecialTokens });
  }

  private emit(row: number, text: string): void {
    const printed = this.printed.get(row) ?? 0;
    if (text.length <= printed) return;
    this.onText(text.slice(printed), row);
    this.printed.set(row, text.length);
  }
}
