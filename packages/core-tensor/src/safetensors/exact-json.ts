export interface ExactJsonChecks {
  /** The error to throw for a key that appears twice in one object; `path` leads to that object. */
  duplicateKey(key: string, path: readonly string[]): Error;
  /**
   * The error to throw where arrays and objects nest deeper than `maxDepth`; `path` leads to the
   * value that is too deep (its first key names the top-level entry it is in).
   */
  tooDeep(maxDepth: number, path: readonly string[]): Error;
  /** Default 64: this parser recurses, so hostile nesting is refused instead of overflowing the stack. */
  maxDepth?: number;
}

/**
 * Parses JSON text that `JSON.parse` has already accepted, keeping what `JSON.parse` loses:
 * a key that appears twice in one object is an error (JSON.parse keeps the last silently), and an
 * integer literal becomes an exact `bigint` (JSON.parse rounds 2^64 − 1 to 18446744073709551616 and
 * cannot tell `384.0` or `3.84e2` from `384`; those stay `number`s here). Objects have no
 * prototype, so a key like `__proto__` is an ordinary key.
 */
export function parseExactJson(text: string, checks: ExactJsonChecks): unknown {
  const maxDepth = checks.maxDepth ?? 64;
  let at = 0;
  const skipSpace = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at]!)) at++;
  };
  const readString = (): string => {
    const start = at;
    at++;
    while (text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    at++;
    return JSON.parse(text.slice(start, at)) as string;
  };
  const readNumber = (): bigint | number => {
    const start = at;
    while (at < text.length && '+-0123456789.eE'.includes(text[at]!)) at++;
    const literal = text.slice(start, at);
    return /^-?\d+$/.test(literal) ? BigInt(literal) : Number(literal);
  };
  const readValue = (path: string[]): unknown => {
    if (path.length > maxDepth) throw checks.tooDeep(maxDepth, path);
    skipSpace();
    const first = text[at];
    if (first === '{') {
      const object: Record<string, unknown> = Object.create(null);
      at++;
      for (skipSpace(); text[at] !== '}'; skipSpace()) {
        if (text[at] === ',') at++;
        skipSpace();
        const key = readString();
        if (Object.hasOwn(object, key)) throw checks.duplicateKey(key, path);
        skipSpace();
        at++; // the colon
        object[key] = readValue([...path, key]);
      }
      at++;
      return object;
    }
    if (first === '[') {
      const array: unknown[] = [];
      at++;
      for (skipSpace(); text[at] !== ']'; skipSpace()) {
        if (text[at] === ',') at++;
        array.push(readValue([...path, String(array.length)]));
      }
      at++;
      return array;
    }
    if (first === '"') return readString();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return value;
      }
    }
    return readNumber();
  };
  return readValue([]);
}
