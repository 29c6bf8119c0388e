import { generateAll } from '@tsformer/decoding';
import { fromPretrained, type PretrainedCausalLM } from '@tsformer/models';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, RunningCli, runCli } from '../../test/run-cli.js';

describe('tsformer serve', () => {
  let server: RunningCli;
  let client: OpenAI;

  beforeAll(async () => {
    server = new RunningCli(['serve', '--model', `${FIXTURES}/gpt2`, '--port', '0', '--name', 'tiny-gpt2']);
    await server.until(({ stdout }) => stdout.includes('/v1\n'));
    const baseURL = /serving tiny-gpt2 at (\S+)\n/.exec(server.stdout)![1]!;
    client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });
  });

  afterAll(async () => {
    server?.signal('SIGTERM');
    await server?.finished();
  });

  it('answers the openai client, streaming and not, with what generate gives', async () => {
    const { model, tokenizer } = await fromPretrained(`${FIXTURES}/gpt2`, { backend: 'wasm' });
    try {
      const prompt = tokenizer!.encode('Hello there');
      const { sequences } = await generateAll(
        model as PretrainedCausalLM,
        { inputIds: [prompt] },
        { maxNewTokens: 5 },
      );
      const expected = tokenizer!.decode(sequences[0]!.slice(prompt.length), { skipSpecialTokens: true });
      const [whole, stream] = await Promise.all([
        client.completions.create({
          model: 'tiny-gpt2',
          prompt: 'Hello there',
          max_tokens: 5,
          temperature: 0,
        }),
        client.completions.create({
          model: 'tiny-gpt2',
          prompt: 'Hello there',
          max_tokens: 5,
          temperature: 0,
          stream: true,
        }),
      ]);
      expect(whole.choices[0]!.text).toBe(expected);
      let streamed = '';
      for await (const part of stream) streamed += part.choices[0]?.text ?? '';
      expect(streamed).toBe(expected);
      expect(whole.usage).toMatchObject({ prompt_tokens: prompt.length, completion_tokens: 5 });
    } finally {
      model.dispose();
    }
  });

  it('stops cleanly on SIGTERM', async () => {
    server.signal('SIGTERM');
    expect((await server.finished()).status).toBe(0);
  });

  it('refuses a missing model folder with one line', () => {
    const run = runCli(['serve', '--model', '/nonexistent/model']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^tsformer: .*\/nonexistent\/model/);
  });
});
