// A minimal OpenAI client for the serving benchmarks: fetch + the SSE stream, timing the first chunk.

/** How one streamed completion went. */
export interface StreamedCompletion {
  status: number;
  text: string;
  /** Milliseconds from sending to the first chunk with text (NaN when none came). */
  timeToFirstTokenMs: number;
  latencyMs: number;
  completionTokens: number;
}

/**
 * POSTs a streaming `/v1/completions` request (`stream_options.include_usage`) and reads the events to
 * `[DONE]`. A non-200 answer resolves with its status and no text; an abort rejects.
 */
export async function streamCompletion(
  baseUrl: string,
  body: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<StreamedCompletion> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
    signal,
  });
  if (response.status !== 200) {
    await response.text();
    return {
      status: response.status,
      text: '',
      timeToFirstTokenMs: Number.NaN,
      latencyMs: performance.now() - started,
      completionTokens: 0,
    };
  }
  let text = '';
  let completionTokens = 0;
  let timeToFirstTokenMs = Number.NaN;
  let buffered = '';
  const decoder = new TextDecoder();
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(bytes, { stream: true });
    const events = buffered.split('\n\n');
    buffered = events.pop()!;
    for (const event of events) {
      const data = event.replace(/^data: /, '');
      if (data === '[DONE]') continue;
      const chunk = JSON.parse(data) as {
        choices: { text: string }[];
        usage?: { completion_tokens: number };
      };
      for (const choice of chunk.choices) {
        if (choice.text !== '' && Number.isNaN(timeToFirstTokenMs))
          timeToFirstTokenMs = performance.now() - started;
        text += choice.text;
      }
      if (chunk.usage) completionTokens = chunk.usage.completion_tokens;
    }
  }
  return { status: 200, text, timeToFirstTokenMs, latencyMs: performance.now() - started, completionTokens };
}

/** The p-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
