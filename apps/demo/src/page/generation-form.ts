import { type GenerationOptions, parseGenerationConfig } from '@tsformer/decoding';
import { make } from './dom.js';

/** How a field's text becomes a JSON value: a switch, a number, or JSON with plain text as a string. */
type FieldKind = 'switch' | 'number' | 'json';

/**
 * The generation parameters the page offers, by their Hugging Face names (generation_config.json's
 * spelling); `seed` is the page's own (the seed of the sampling draws).
 */
const FIELDS: readonly (readonly [name: string, kind: FieldKind, hint: string])[] = [
  ['max_new_tokens', 'number', '40'],
  ['min_new_tokens', 'number', ''],
  ['do_sample', 'switch', ''],
  ['seed', 'number', 'random'],
  ['temperature', 'number', '1.0'],
  ['top_k', 'number', '50'],
  ['top_p', 'number', '1.0'],
  ['min_p', 'number', ''],
  ['typical_p', 'number', '1.0'],
  ['epsilon_cutoff', 'number', ''],
  ['eta_cutoff', 'number', ''],
  ['repetition_penalty', 'number', '1.0'],
  ['no_repeat_ngram_size', 'number', '0'],
  ['num_beams', 'number', '1'],
  ['length_penalty', 'number', '1.0'],
  ['early_stopping', 'json', 'false'],
  ['num_return_sequences', 'number', '1'],
  ['bad_words_ids', 'json', '[[12, 34]]'],
  ['stop_strings', 'json', '["\\n\\n"]'],
];

/** Values the form starts with (the rest are unset: the model's generation_config.json decides). */
const INITIAL: Readonly<Record<string, string>> = { max_new_tokens: '40' };

/** What the form asks for: options for `generate` (validated by the library) and the seed. */
export interface GenerationRequest {
  options: GenerationOptions;
  seed: number | undefined;
  /** The parameters as the user set them, by HF name (for messages and shareable links). */
  raw: Record<string, unknown>;
}

/** Fills `form` with one input per field, each named by its HF name, initial values from `query`. */
export function buildGenerationForm(form: HTMLFormElement, query: URLSearchParams): void {
  for (const [name, kind, hint] of FIELDS) {
    const label = make('label', name);
    if (kind === 'json') label.className = 'wide';
    const input = make('input');
    input.name = name;
    input.dataset.testid = `option-${name}`;
    const given = query.get(name) ?? INITIAL[name];
    if (kind === 'switch') {
      input.type = 'checkbox';
      input.checked = given === 'true' || given === '1';
    } else {
      input.type = 'text';
      input.placeholder = hint;
      input.value = given ?? '';
    }
    label.append(input);
    form.append(label);
  }
  form.addEventListener('submit', (event) => event.preventDefault());
}

/**
 * Reads the form: empty fields are left out; every value goes through `parseGenerationConfig`, so
 * a wrong one fails with the library's own message naming the HF field (ranges are checked when
 * `generate` merges the options with the model's defaults).
 */
export function readGenerationForm(form: HTMLFormElement): GenerationRequest {
  const raw: Record<string, unknown> = {};
  let seed: number | undefined;
  for (const [name, kind] of FIELDS) {
    const input = form.elements.namedItem(name) as HTMLInputElement;
    if (kind === 'switch') {
      if (input.checked) raw[name] = true;
      continue;
    }
    const text = input.value.trim();
    if (text === '') continue;
    const value = parseValue(text);
    if (name === 'seed') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        throw new Error(`seed must be a non-negative integer, got ${text}`);
      }
      seed = value;
    } else raw[name] = value;
  }
  return { options: parseGenerationConfig(raw), seed, raw };
}

/** JSON when the text is JSON (`0.9`, `true`, `[[1, 2]]`), else the text itself (`"\n"` needs no quotes). */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
