/**
 * Hugging Face's `_merge_criteria_processor_list`: a custom item replaces the built-in item of the
 * same class in place; the other custom items follow the built-in ones, in their order.
 */
export function mergeWithCustom<T extends object>(builtIn: readonly T[], custom: readonly T[]): T[] {
  const used = new Set<T>();
  const merged = builtIn.map((item) => {
    const replacement = custom.find((candidate) => candidate.constructor === item.constructor);
    if (replacement === undefined) return item;
    used.add(replacement);
    return replacement;
  });
  return [...merged, ...custom.filter((item) => !used.has(item))];
}
