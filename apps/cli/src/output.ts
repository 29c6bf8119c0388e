const BIGINT_MARK = '\u0000bigint:';

/** Writes `value` as one JSON document on stdout (for `--json`); a bigint is written as its exact digits. */
export function printJson(value: unknown): void {
  const json = JSON.stringify(
    value,
    (_key, entry) => (typeof entry === 'bigint' ? `${BIGINT_MARK}${entry}` : entry),
    2,
  );
  process.stdout.write(`${json.replace(/"\\u0000bigint:(-?\d+)"/g, '$1')}\n`);
}

/** Reads all of stdin as UTF-8 text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `1234567` → `1,234,567` (a bigint digit for digit). */
export function formatCount(value: number | bigint): string {
  return value.toLocaleString('en-US');
}

/** A count with an SI suffix: `6.49 M`, `1.56 G`, `124 k`. */
export function formatSi(value: number, unit = ''): string {
  const prefixes = ['', 'k', 'M', 'G', 'T', 'P'];
  let scaled = value;
  let index = 0;
  while (Math.abs(scaled) >= 1000 && index < prefixes.length - 1) {
    scaled /= 1000;
    index += 1;
  }
  const digits = index === 0 ? 0 : scaled >= 100 ? 0 : scaled >= 10 ? 1 : 2;
  return `${scaled.toFixed(digits)} ${prefixes[index]}${unit}`.trimEnd();
}

/** Bytes in binary units: `12.4 MiB`. */
export function formatBytes(bytes: number | bigint): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let scaled = Number(bytes);
  let index = 0;
  while (scaled >= 1024 && index < units.length - 1) {
    scaled /= 1024;
    index += 1;
  }
  return `${index === 0 ? scaled : scaled.toFixed(scaled >= 100 ? 0 : scaled >= 10 ? 1 : 2)} ${units[index]}`;
}
