import type { BatchSchedulerStats } from '@tsformer/decoding';

/** Upper bounds (seconds) of the time-to-first-token histogram buckets. */
const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** The window over which `tokens per second` is measured. */
const RATE_WINDOW_SECONDS = 10;

/**
 * The server's Prometheus metrics: requests by endpoint and status, queue depth and batch size per
 * model, generated tokens (a counter, and a rate over the last 10 s), and a time-to-first-token
 * histogram. `render` writes the text exposition format.
 */
export class ServerMetrics {
  private readonly requests = new Map<string, number>();
  private readonly ttftCounts = new Array<number>(TTFT_BUCKETS.length).fill(0);
  private ttftSum = 0;
  private ttftCount = 0;
  /** Generated tokens per whole second, over the rate window. */
  private readonly tokensPerSecond = new Map<number, number>();
  private readonly lastTokenTotals = new Map<string, number>();

  constructor(private readonly clock: () => number = () => Date.now()) {}

  /** Counts one answered request. */
  recordRequest(endpoint: string, status: number): void {
    const key = `endpoint="${endpoint}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  /** Records a request's time to its first generated token. */
  recordTimeToFirstToken(seconds: number): void {
    this.ttftSum += seconds;
    this.ttftCount += 1;
    TTFT_BUCKETS.forEach((bound, index) => {
      if (seconds <= bound) this.ttftCounts[index]! += 1;
    });
  }

  /** The Prometheus text for the given models' scheduler stats. */
  render(models: readonly { id: string; stats: BatchSchedulerStats }[]): string {
    this.sampleTokens(models);
    const lines: string[] = [];
    const family = (name: string, type: string, help: string) =>
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    family('tsformer_requests_total', 'counter', 'HTTP requests answered, by endpoint and status.');
    for (const [labels, count] of this.requests) lines.push(`tsformer_requests_total{${labels}} ${count}`);
    family('tsformer_queue_depth', 'gauge', 'Requests waiting for a row of the batch.');
    for (const { id, stats } of models) lines.push(`tsformer_queue_depth{model="${id}"} ${stats.waiting}`);
    family('tsformer_batch_size', 'gauge', 'Rows in the running batch.');
    for (const { id, stats } of models) lines.push(`tsformer_batch_size{model="${id}"} ${stats.running}`);
    family('tsformer_generated_tokens_total', 'counter', 'Tokens generated.');
    for (const { id, stats } of models)
      lines.push(`tsformer_generated_tokens_total{model="${id}"} ${stats.generatedTokens}`);
    family(
      'tsformer_tokens_per_second',
      'gauge',
      `Tokens generated per second over the last ${RATE_WINDOW_SECONDS} s.`,
    );
    lines.push(`tsformer_tokens_per_second ${this.tokenRate()}`);
    family(
      'tsformer_time_to_first_token_seconds',
      'histogram',
      'Time from a request to its first generated token.',
    );
    TTFT_BUCKETS.forEach((bound, index) => {
      lines.push(`tsformer_time_to_first_token_seconds_bucket{le="${bound}"} ${this.ttftCounts[index]}`);
    });
    lines.push(`tsformer_time_to_first_token_seconds_bucket{le="+Inf"} ${this.ttftCount}`);
    lines.push(`tsformer_time_to_first_token_seconds_sum ${this.ttftSum}`);
    lines.push(`tsformer_time_to_first_token_seconds_count ${this.ttftCount}`);
    return `${lines.join('\n')}\n`;
  }

  /** Notes the tokens each model generated since the last look, in the current second's bucket. */
  sampleTokens(models: readonly { id: string; stats: BatchSchedulerStats }[]): void {
    const second = Math.floor(this.clock() / 1000);
    for (const { id, stats } of models) {
      const added = stats.generatedTokens - (this.lastTokenTotals.get(id) ?? 0);
      this.lastTokenTotals.set(id, stats.generatedTokens);
      if (added > 0) this.tokensPerSecond.set(second, (this.tokensPerSecond.get(second) ?? 0) + added);
    }
    for (const bucket of this.tokensPerSecond.keys()) {
      if (bucket <= second - RATE_WINDOW_SECONDS) this.tokensPerSecond.delete(bucket);
    }
  }

  private tokenRate(): number {
    let total = 0;
    for (const count of this.tokensPerSecond.values()) total += count;
    return total / RATE_WINDOW_SECONDS;
  }
}
