/** What a long step reports as it goes: `update(done, total)`, then `finish()`. */
export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

const BAR_WIDTH = 28;

/**
 * A one-line progress bar on `stream` (stderr), redrawn in place. When the stream is not a
 * terminal (piped, redirected, under a test) it draws nothing at all.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return { update() {}, finish() {} };
  let drawn = false;
  let lastLine = '';
  return {
    update(done, total) {
      const fraction = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(fraction * BAR_WIDTH);
      const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${Math.round(fraction * 100)}%`;
      if (line === lastLine) return;
      stream.write(`\r${line}`);
      lastLine = line;
      drawn = true;
    },
    finish() {
      if (drawn) stream.write(`\r${' '.repeat(lastLine.length)}\r`);
      drawn = false;
    },
  };
}
