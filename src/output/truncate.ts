/** Result of {@link truncateMiddle}. */
export interface TruncatedText {
  /** The (possibly shortened) text, with the marker line inserted when truncated. */
  text: string;
  /** True when anything was omitted. */
  truncated: boolean;
  /** Number of UTF-16 code units removed from the middle (0 when not truncated). */
  omittedChars: number;
  /** Number of newline characters inside the removed middle (0 when not truncated). */
  omittedLines: number;
}

/** Fraction of the budget given to the head; the tail gets the rest. */
const HEAD_SHARE = 0.4;

/** How far (as a fraction of the head/tail budget) we will back off to cut at a line boundary. */
const LINE_SNAP_SHARE = 0.25;

/** Newlines placed around the marker; reserved from the budget so the bound holds. */
const SEPARATOR_RESERVE = 2;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** End index (exclusive) of the head: at most `max`, preferably just after a newline. */
function headEnd(text: string, max: number): number {
  if (max <= 0) return 0;
  const nl = text.lastIndexOf('\n', max - 1);
  if (nl >= 0 && nl + 1 >= max - Math.floor(max * LINE_SNAP_SHARE)) return nl + 1;
  // Why: never end the head between the two halves of a surrogate pair.
  return isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
}

/** Start index of the tail: at least `min`, preferably at the start of a line. */
function tailStart(text: string, min: number): number {
  const size = text.length - min;
  if (size <= 0) return text.length;
  if (text.charCodeAt(min - 1) === 0x0a) return min;
  const nl = text.indexOf('\n', min);
  if (nl >= 0 && nl + 1 <= min + Math.floor(size * LINE_SNAP_SHARE)) return nl + 1;
  // Why: never start the tail on the second half of a surrogate pair.
  return isLowSurrogate(text.charCodeAt(min)) ? min + 1 : min;
}

/** Count `\n` in `text` between `from` (inclusive) and `to` (exclusive). */
function countNewlines(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

/**
 * Shorten `text` to about `budget` characters by removing its middle.
 *
 * If `text.length <= budget` it is returned unchanged. Otherwise roughly 40% of
 * the budget is kept from the start and 60% from the end; each cut snaps to a
 * line boundary when one lies within 25% of that part's budget, and a surrogate
 * pair is never split. `marker(omittedChars, omittedLines)` is inserted on its
 * own line between head and tail.
 *
 * @param text   Input text.
 * @param budget Maximum kept length in UTF-16 code units (non-integers are floored,
 *               negatives/NaN act as 0). The returned `text.length` never exceeds
 *               `budget + marker(...).length`.
 * @param marker Builds the marker line from the omitted char count (code units)
 *               and omitted line count (newlines inside the removed middle).
 */
export function truncateMiddle(text: string, budget: number, marker: (omittedChars: number, omittedLines: number) => string): TruncatedText {
  if (text.length <= budget) {
    return { text, truncated: false, omittedChars: 0, omittedLines: 0 };
  }
  const usable = Math.max(0, Math.floor(Number.isFinite(budget) ? budget : 0) - SEPARATOR_RESERVE);
  const headMax = Math.floor(usable * HEAD_SHARE);
  const tailMax = usable - headMax;

  const hEnd = headEnd(text, headMax);
  const tStart = tailStart(text, text.length - tailMax);
  const omittedChars = tStart - hEnd;
  const omittedLines = countNewlines(text, hEnd, tStart);

  const head = text.slice(0, hEnd);
  const tail = text.slice(tStart);
  const before = head.length > 0 && !head.endsWith('\n') ? '\n' : '';
  const after = tail.length > 0 ? '\n' : '';
  return {
    text: `${head}${before}${marker(omittedChars, omittedLines)}${after}${tail}`,
    truncated: true,
    omittedChars,
    omittedLines,
  };
}
