/**
 * Which parameter names a call means: a `RegExp` tested against the full dotted name, or a glob where
 * `*` matches any run of characters (`model.embed_tokens.*`, `*.layers.0.*`, `lm_head.weight`).
 */
export type NamePattern = string | RegExp;

/** Whether `name` matches `pattern` (a glob matches the whole name; a `RegExp` as it is written). */
export function matchesName(name: string, pattern: NamePattern): boolean {
  if (pattern instanceof RegExp) return new RegExp(pattern.source, pattern.flags.replace('g', '')).test(name);
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`).test(name);
}
