import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLED_MODEL, FIXTURES, RunningCli, runCli, runCliJson } from '../../test/run-cli.js';

interface Turn {
  turn: number;
  user: string;
  reply: string;
  reusedTokens: number;
  fedTokens: number;
  newTokens: number;
  droppedTurns: number;
  interrupted: boolean;
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

function parseTurns(stdout: string): Turn[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Turn);
}

/**
 * The conversation the model reads before the last turn's reply (plain concatenation): the turns
 * still kept (the oldest `dropped` are gone), each user text on a new line followed by its reply.
 */
function keptConversation(turns: readonly Turn[], dropped: number): string {
  const kept = turns.slice(dropped);
  return kept
    .map((turn, i) => `${i > 0 ? '\n' : ''}${turn.user}${i < kept.length - 1 ? turn.reply : ''}`)
    .join('');
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

describe('tsformer chat at the context limit', () => {
  const totalDropped = (turns: readonly Turn[]) => turns.reduce((sum, turn) => sum + turn.droppedTurns, 0);

  it('drops the oldest turns on gpt2 (64 learned positions) instead of dying at turn 3', () => {
    const args = ['--model', `${FIXTURES}/gpt2`, '--max-new-tokens', '8'];
    const lines = Array.from({ length: 6 }, (_, i) => `Compute the mean of the array number ${i + 1}`);
    const run = runCli(['chat', ...args, '--json'], { input: `${lines.join('\n')}\n` });
    expect(run.status).toBe(0);
    const turns = parseTurns(run.stdout);
    expect(turns.map((turn) => turn.newTokens)).toEqual([8, 8, 8, 8, 8, 8]);
    const dropped = totalDropped(turns);
    expect(dropped).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/^\[dropped the oldest turn to fit the context of 64 tokens\]$/m);
    // The last reply reads the kept turns exactly as a fresh generate does.
    const last = turns.at(-1)!;
    expect(last.reply).toBe(freshReply(args, keptConversation(turns, dropped)));
  });

  it('keeps a static cache working past the point where it used to die (--max-context)', () => {
    const args = ['--max-new-tokens', '16', '--cache-implementation', 'static'];
    const lines = Array.from({ length: 10 }, (_, i) => `Return the number of elements ${i + 1}`);
    const run = runCli(['chat', ...args, '--max-context', '96', '--json'], {
      input: `${lines.join('\n')}\n`,
    });
    expect(run.status).toBe(0);
    const turns = parseTurns(run.stdout);
    expect(turns).toHaveLength(10);
    const dropped = totalDropped(turns);
    expect(dropped).toBeGreaterThan(2);
    expect(turns.at(-1)!.reply).toBe(freshReply(args, keptConversation(turns, dropped)));
  });

  it('lets --max-context pass the positions of a rotary model, warning once per chat', () => {
    const args = ['--max-context', '600', '--max-new-tokens', '508', '--min-new-tokens', '508', '--json'];
    const run = runCli(['chat', ...args], { input: 'Return the number of\nCompute the mean of the array\n' });
    expect(run.status).toBe(0);
    expect(parseTurns(run.stdout).map((turn) => [turn.newTokens, turn.droppedTurns])).toEqual([
      [508, 0],
      [508, 1],
    ]);
    expect(run.stderr.match(/^tsformer: warning: .*rotary positions extrapolate/gm)).toHaveLength(1);
  });

  it('bounds replies by new tokens even when generation_config.json sets max_length', () => {
    const folder = mkdtempSync(join(tmpdir(), 'tsformer-chat-length-'));
    try {
      for (const file of readdirSync(BUNDLED_MODEL)) {
        if (file !== 'generation_config.json') symlinkSync(join(BUNDLED_MODEL, file), join(folder, file));
      }
      writeFileSync(
        join(folder, 'generation_config.json'),
        JSON.stringify({ eos_token_id: 0, max_length: 30 }),
      );
      const turns = chatTurns(
        ['--model', folder, '--min-new-tokens', '64'],
        ['Return the number of', 'Compute'],
      );
      expect(turns.map((turn) => turn.newTokens)).toEqual([64, 64]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('refuses a context past a learned table, one with no room for a reply, and --max-length', () => {
    const gpt2 = runCli(['chat', '--model', `${FIXTURES}/gpt2`, '--max-context', '65']);
    expect(gpt2.status).toBe(2);
    expect(gpt2.stderr).toBe(
      "tsformer: --max-context 65 is more than the model's 64 positions (a learned position table)\n",
    );
    const noRoom = runCli(['chat', '--max-context', '64']);
    expect(noRoom.status).toBe(2);
    expect(noRoom.stderr).toMatch(/leaves no room for a message beside a reply of up to 64/);
    expect(runCli(['chat', '--max-length', '30']).stderr).toMatch(/--max-length does not apply/);
  });

  it('says when a message alone does not fit, and goes on', () => {
    const run = runCli(['chat', '--max-context', '12', '--max-new-tokens', '4', '--json'], {
      input: 'Return the number of elements along a given axis of the array\nReturn the number of\n',
    });
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(
      /^\[not sent: this message makes a prompt of \d+ tokens, which with a reply of up to 4 does not fit the context of 12\]$/m,
    );
    expect(parseTurns(run.stdout).map((turn) => turn.user)).toEqual(['Return the number of']);
  });

  it('goes on when dropping a turn changes what a sliding window already dropped (Gemma 2, window 6)', () => {
    const messages = ['hello there how are you', 'what is the time now', 'and more words please', 'last one'];
    const run = runCli(
      ['chat', '--model', `${FIXTURES}/gemma2`, '--max-context', '40', '--max-new-tokens', '8', '--json'],
      { input: `${messages.join('\n')}\n` },
    );
    expect(run.stderr).not.toMatch(/tsformer:/);
    expect(run.status).toBe(0);
    const turns = parseTurns(run.stdout);
    expect(turns.map((turn) => turn.user)).toEqual(messages);
    // A turn after a dropped one cannot reuse the windowed cache: it is fed from the start.
    const afterDrop = turns.filter((turn) => turn.droppedTurns > 0);
    expect(afterDrop.length).toBeGreaterThan(0);
    for (const turn of afterDrop) expect(turn.reusedTokens).toBe(0);
  });
});

describe('tsformer chat and Ctrl-C', () => {
  // Replies of exactly 150 tokens (EOS suppressed), long enough to be interrupted, and on one line
  // (every token holding a newline suppressed), so that stdout is one line per reply.
  const vocab = JSON.parse(readFileSync(join(BUNDLED_MODEL, 'tokenizer.json'), 'utf8')).model.vocab as Record<
    string,
    number
  >;
  const newlineTokens = Object.entries(vocab)
    .filter(([token]) => token.includes('Ċ'))
    .map(([, id]) => id);
  const long = [
    '--max-new-tokens',
    '150',
    '--min-new-tokens',
    '150',
    '--suppress-tokens',
    newlineTokens.join(','),
  ];

  it('stops the reply, keeps the partial reply in the conversation and the cache consistent, and goes on', async () => {
    // In a context of 200 tokens turn 2 cannot fit beside turn 1, which is dropped.
    const chat = new RunningCli(['chat', ...long, '--max-context', '200']);
    chat.write('Return the number of\nCompute the mean\n');
    // Once turn 2 has streamed some text, Ctrl-C.
    await chat.until(({ stdout }) => /\n./.test(stdout));
    chat.signal('SIGINT');
    await chat.until(({ stderr }) => stderr.includes('[reply stopped: it stays in the conversation]'));
    chat.write('Find the largest value\n');
    chat.end();
    const run = await chat.finished();
    expect(run.status).toBe(0);
    expect(run.stderr).toBe(
      '[dropped the oldest turn to fit the context of 200 tokens]\n[reply stopped: it stays in the conversation]\n',
    );
    const [first, partial, third, end] = run.stdout.split('\n');
    expect(end).toBe('');
    expect(first).toBe(freshReply(long, 'Return the number of'));
    // Turn 2 (read alone) stopped part of the way through its reply.
    const fullSecond = freshReply(long, 'Compute the mean');
    expect(partial!.length).toBeGreaterThan(0);
    expect(partial!.length).toBeLessThan(fullSecond.length);
    expect(fullSecond.startsWith(partial!)).toBe(true);
    // Turn 3 reads turn 2 with its partial reply, through the cache, as a fresh read does.
    expect(third).toBe(freshReply(long, `Compute the mean${partial}\nFind the largest value`));
  });

  it('reports a stopped reply in --json', async () => {
    const chat = new RunningCli(['chat', ...long, '--max-context', '200', '--json']);
    chat.write('Return the number of\nCompute the mean\n');
    // The notice that turn 1 was dropped comes just before turn 2's reply starts.
    await chat.until(({ stderr }) => stderr.includes('[dropped the oldest turn'));
    chat.signal('SIGINT');
    await chat.until(({ stdout }) => stdout.trim().split('\n').length === 2);
    chat.end();
    const run = await chat.finished();
    expect(run.status).toBe(0);
    const [first, stopped] = parseTurns(run.stdout);
    expect([first!.interrupted, stopped!.interrupted]).toEqual([false, true]);
    expect([first!.newTokens, stopped!.droppedTurns]).toEqual([150, 1]);
    expect(stopped!.newTokens).toBeLessThan(150);
  });

  it('ends the chat with status 130 on Ctrl-C at the prompt', async () => {
    const chat = new RunningCli(['chat', '--max-new-tokens', '4', '--json']);
    chat.write('Return the number of\n');
    await chat.until(({ stdout }) => stdout.endsWith('\n'));
    chat.signal('SIGINT');
    const run = await chat.finished();
    expect(run.status).toBe(130);
    expect(parseTurns(run.stdout)).toHaveLength(1);
    expect(run.stderr).toBe('');
  });

  it('ends the chat with status 130 on a second Ctrl-C, after the first stopped a reply', async () => {
    const chat = new RunningCli(['chat', ...long]);
    chat.write('Return the number of\n');
    await chat.until(({ stdout }) => stdout.length > 0);
    chat.signal('SIGINT');
    await chat.until(({ stderr }) => stderr.includes('[reply stopped'));
    chat.signal('SIGINT');
    const run = await chat.finished();
    expect(run.status).toBe(130);
  });
});
