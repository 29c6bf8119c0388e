/**
 * JSON as transformers writes a config (`json.dumps(value, indent=2, sort_keys=True)` plus a newline),
 * keeping Python's int/float distinction that JavaScript numbers lose: Python reads `30.0` as a float
 * and `30` as an int, and transformers' typed configs refuse an int where they declare a float
 * (Gemma 2's `final_logit_softcapping`). A number at a path in `floatPaths` (from
 * {@link floatLiteralPaths} of the file it was loaded from) is written as a float.
 */
export function pythonJson(value: unknown, floatPaths: ReadonlySet<string> = new Set()): string {
  const write = (item: unknown, path: readonly (string | number)[], indent: string): string => {
    const inner = `${indent}  `;
    if (Array.isArray(item)) {
      if (item.length === 0) return '[]';
      const lines = item.map((element, index) => inner + write(element, [...path, index], inner));
      return `[\n${lines.join(',\n')}\n${indent}]`;
    }
    if (item !== null && typeof item === 'object') {
      const keys = Object.keys(item).sort();
      if (keys.length === 0) return '{}';
      const entries = item as Record<string, unknown>;
      const lines = keys.map(
        (key) => `${inner}${JSON.stringify(key)}: ${write(entries[key], [...path, key], inner)}`,
      );
      return `{\n${lines.join(',\n')}\n${indent}}`;
    }
    const text = JSON.stringify(item);
    const integralFloat = typeof item === 'number' && /^-?\d+$/.test(text) && floatPaths.has(pathKey(path));
    return integralFloat ? `${text}.0` : text;
  };
  return `${write(value, [], '')}\n`;
}

/**
 * The paths (see `pathKey`) of the numbers that the JSON `text` writes as floats (`30.0`, `1e-05`).
 * `text` must be valid JSON (it was parsed before).
 */
export function floatLiteralPaths(text: string): Set<string> {
  const paths = new Set<string>();
  const number = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;
  const literal = /true|false|null/y;
  let at = 0;
  const skipSpace = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at]!)) at += 1;
  };
  const readString = (): string => {
    const start = at;
    at += 1; // the opening quote
    while (text[at] !== '"') at += text[at] === '\\' ? 2 : 1;
    at += 1;
    return JSON.parse(text.slice(start, at)) as string;
  };
  const match = (pattern: RegExp): string => {
    pattern.lastIndex = at;
    const found = pattern.exec(text)?.[0] ?? '';
    at += found.length;
    return found;
  };
  // One value at `at`; a container's members are read with their key or index appended to `path`.
  const readValue = (path: readonly (string | number)[]): void => {
    skipSpace();
    const opening = text[at];
    if (opening === '{' || opening === '[') {
      const closing = opening === '{' ? '}' : ']';
      at += 1;
      skipSpace();
      for (let index = 0; text[at] !== closing; index++) {
        skipSpace();
        let key: string | number = index;
        if (opening === '{') {
          key = readString();
          skipSpace();
          at += 1; // ':'
        }
        readValue([...path, key]);
        skipSpace();
        if (text[at] === ',') at += 1;
        skipSpace();
      }
      at += 1;
    } else if (opening === '"') {
      readString();
    } else if (match(literal) === '') {
      if (/[.eE]/.test(match(number))) paths.add(pathKey(path));
    }
  };
  readValue([]);
  return paths;
}

function pathKey(path: readonly (string | number)[]): string {
  return JSON.stringify(path);
}
