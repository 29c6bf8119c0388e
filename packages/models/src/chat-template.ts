import { Template } from '@huggingface/jinja';
import { ChatTemplateError } from './errors.js';

/** One chat message as HF chat templates read it (`role`, `content`, and any extra keys). */
export interface ChatMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

export interface ChatTemplateOptions {
  /** End with the prompt of an assistant turn (HF `add_generation_prompt`, default false). */
  addGenerationPrompt?: boolean;
  /** Tool definitions, passed to the template as `tools`. */
  tools?: readonly unknown[];
  /** Further variables the template reads (HF's `**kwargs` of `apply_chat_template`). */
  variables?: Readonly<Record<string, unknown>>;
}

/**
 * The template text from a `tokenizer_config.json` `chat_template` entry: a string, or a list of
 * `{name, template}` from which `name` (default "default") is taken.
 */
export function selectChatTemplate(
  entry: unknown,
  name = 'default',
  where = 'tokenizer_config.json',
): string {
  if (typeof entry === 'string') return entry;
  if (Array.isArray(entry)) {
    const named = entry.find(
      (candidate): candidate is { name: string; template: string } =>
        typeof candidate === 'object' && candidate !== null && candidate.name === name,
    );
    if (named && typeof named.template === 'string') return named.template;
    const names = entry.map((candidate) => (candidate as { name?: unknown })?.name);
    throw new ChatTemplateError(
      `${where} has no chat template named "${name}" (it has ${JSON.stringify(names)})`,
    );
  }
  throw new ChatTemplateError(`${where}: chat_template must be a string or a list of {name, template}`);
}

/**
 * A compiled Hugging Face chat template (Jinja, rendered by `@huggingface/jinja`), with the special
 * tokens every template may read (`bos_token`, `eos_token`, ...). `location` names the template in
 * errors (`model/tokenizer_config.json chat_template`, `model/chat_template.jinja`).
 */
export class ChatTemplate {
  private readonly template: Template;

  constructor(
    readonly source: string,
    private readonly specialTokens: Readonly<Record<string, string>> = {},
    readonly location = 'the chat template',
  ) {
    try {
      this.template = new Template(source);
    } catch (error) {
      throw new ChatTemplateError(`${location} does not parse: ${oneLine(error)}`);
    }
  }

  /** The conversation as the model's prompt text (HF `apply_chat_template(..., tokenize=False)`). */
  render(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    const context: Record<string, unknown> = {
      ...this.specialTokens,
      ...options.variables,
      messages: messages.map((message) => ({ ...message })),
      add_generation_prompt: options.addGenerationPrompt ?? false,
    };
    if (options.tools !== undefined) context.tools = options.tools;
    try {
      return this.template.render(context);
    } catch (error) {
      throw new ChatTemplateError(`${this.location} failed to render: ${oneLine(error)}`);
    }
  }
}

function oneLine(error: unknown): string {
  return String((error as Error)?.message ?? error).replaceAll(/\s+/g, ' ');
}
