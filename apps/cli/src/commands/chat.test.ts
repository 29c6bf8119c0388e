import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_MODEL, runCli, runCliJson } from '../../test/run-cli.js';

interface Turn {
  turn: number;
  user: string;
  reply: string;
  reusedTokens: number;
  fedTokens: number;
  newTokens: number;
}

function chatTurns(args: readonly string[], lines: readonly string[]): Turn[] {
  const run = runCli(['chat', ...args, '--json'], { input: `${lines.join('\n')}\n` });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Turn);
}

/** What `generate` replies to `prompt` from scratch (no cache kept from anything before). */
function freshReply(args: readonly string[], prompt: string): string {
  return runCliJson<{ sequences: { text: string }[] }>(['generate', ...args, '--prompt', prompt])
    .sequences[0]!.text;
}

describe('tsformer chat without a chat template (plain concatenation)', () => {
  it('reuses the cache across turns and replies as a fresh read of the whole conversation would', () => {
    const turns = chatTurns(['--max-new-tokens', '8'], ['Return the number of', 'Compute the mean']);
    expect(turns.map((turn) => turn.turn)).toEqual([1, 2]);
    expect(turns[0]!.reusedTokens).toBe(0);
    expect(turns[0]!.reply).toBe(freshReply(['--max-new-tokens', '8'], 'Return the number of'));
    // Turn 2 feeds only its own tokens; the first turn's are read from the kept cache.
    expect(turns[1]!.reusedTokens).toBeGreaterThan(turns[0]!.fedTokens);
    expect(turns[1]!.fedTokens).toBeLessThan(8);
    const conversation = `Return the number of${turns[0]!.reply}\nCompute the mean`;
    expect(turns[1]!.reply).toBe(freshReply(['--max-new-tokens', '8'], conversation));
  });

  it('starts over after /reset and streams plain text without --json', () => {
    const turns = chatTurns(
      ['--max-new-tokens', '4'],
      ['Return the number of', '/reset', 'Return the number of'],
    );
    expect(turns).toHaveLength(2);
    expect(turns[1]!.reply).toBe(turns[0]!.reply);
    const run = runCli(['chat', '--max-new-tokens', '4'], { input: 'Return the number of\n' });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`${turns[0]!.reply}\n`);
  });
});

describe('tsformer chat with a chat template', () => {
  let folder: string;
  // The template writes the BOS token itself, so a rendered conversation (minus that BOS) given to
  // `generate` (which adds it) reads exactly the same ids.
  const template =
    '<|endoftext|>{% for message in messages %}{{ message.role }}: {{ message.content }}\n{% endfor %}' +
    '{% if add_generation_prompt %}assistant:{% endif %}';
  const render = (messages: { role: string; content: string }[]) =>
    `${messages.map((message) => `${message.role}: ${message.content}\n`).join('')}assistant:`;

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'tsformer-chat-'));
    for (const file of readdirSync(BUNDLED_MODEL)) {
      if (file !== 'tokenizer_config.json') symlinkSync(join(BUNDLED_MODEL, file), join(folder, file));
    }
    const config = JSON.parse(readFileSync(join(BUNDLED_MODEL, 'tokenizer_config.json'), 'utf8'));
    writeFileSync(
      join(folder, 'tokenizer_config.json'),
      JSON.stringify({ ...config, chat_template: template }),
    );
  });

  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('formats turns with the template and keeps the cache across them', () => {
    const args = ['--model', folder, '--max-new-tokens', '6', '--system', 'You write docstrings.'];
    const turns = chatTurns(args, ['Return the number of', 'Compute the mean']);
    const system = { role: 'system', content: 'You write docstrings.' };
    const first = [system, { role: 'user', content: 'Return the number of' }];
    expect(turns[0]!.reply).toBe(freshReply(['--model', folder, '--max-new-tokens', '6'], render(first)));
    const second = [
      ...first,
      { role: 'assistant', content: turns[0]!.reply },
      { role: 'user', content: 'Compute the mean' },
    ];
    // At least the first prompt is reused (the reply may tokenize differently once the template follows it).
    expect(turns[1]!.reusedTokens).toBeGreaterThanOrEqual(turns[0]!.fedTokens);
    expect(turns[1]!.reply).toBe(freshReply(['--model', folder, '--max-new-tokens', '6'], render(second)));
  });
});
