import { truncateMiddle } from '../output/truncate.js';

/** Characters the pretty JSON of `value` takes, as jsonResult sends it to the agent. */
export function jsonSize(value: unknown): number {
  return JSON.stringify(value, null, 2).length;
}

/**
 * Fits a result with a list of entries into `budget` characters of pretty JSON: entries are
 * dropped from the end (counted in `omitted`), then the longest string fields of what is left
 * (reprs, docs) lose their middle. Returns whether anything was cut. Mutates `result`.
 */
export function fitEntries(result: { omitted?: number }, entries: Array<Record<string, unknown>>, budget: number): boolean {
  let cut = false;
  while (entries.length > 1 && jsonSize(result) > budget) {
    entries.pop();
    result.omitted = (result.omitted ?? 0) + 1;
    cut = true;
  }
  for (let round = 0; round < 8 && jsonSize(result) > budget; round++) {
    const longest = longestString(entries);
    if (!longest) break;
    const excess = jsonSize(result) - budget;
    const keep = Math.max(0, longest.value.length - excess - 100);
    longest.holder[longest.key] = truncateMiddle(longest.value, keep, (chars) => `… [${chars} characters cut to fit the output budget] …`).text;
    cut = true;
  }
  return cut;
}

function longestString(entries: Array<Record<string, unknown>>): { holder: Record<string, unknown>; key: string; value: string } | undefined {
  let best: { holder: Record<string, unknown>; key: string; value: string } | undefined;
  for (const entry of entries) {
    for (const [key, value] of Object.entries(entry)) {
      if (typeof value === 'string' && value.length > (best?.value.length ?? 200)) best = { holder: entry, key, value };
    }
  }
  return best;
}
