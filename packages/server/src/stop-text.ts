/**
 * Cuts a choice's text at the first of its stop sequences, as OpenAI returns it (the stop sequence
 * itself left out), while it streams: text that could still be the start of a stop sequence is held
 * back until the next piece settles it.
 */
export class StopTextFilter {
  private pending = '';
  private stopped = false;
  private readonly holdBack: number;

  constructor(private readonly stops: readonly string[]) {
    this.holdBack = Math.max(0, ...stops.map((stop) => stop.length - 1));
  }

  /** Whether a stop sequence was found (nothing more will be emitted). */
  get hasStopped(): boolean {
    return this.stopped;
  }

  /** Takes the next piece of text; returns what can be emitted now. */
  push(text: string): string {
    if (this.stopped) return '';
    this.pending += text;
    const cut = this.firstStop();
    if (cut >= 0) {
      this.stopped = true;
      const emitted = this.pending.slice(0, cut);
      this.pending = '';
      return emitted;
    }
    const safe = Math.max(0, this.pending.length - this.holdBack);
    const emitted = this.pending.slice(0, safe);
    this.pending = this.pending.slice(safe);
    return emitted;
  }

  /** The text held back, at the end of the stream. */
  end(): string {
    const rest = this.stopped ? '' : this.pending;
    this.pending = '';
    return rest;
  }

  private firstStop(): number {
    const found = this.stops.map((stop) => this.pending.indexOf(stop)).filter((index) => index >= 0);
    return found.length === 0 ? -1 : Math.min(...found);
  }
}
