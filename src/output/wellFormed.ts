// Why the regex fallback: String.prototype.toWellFormed is in Node 20 but not in our ES2022 lib
// types, and a runtime without it must not crash on the call.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const native = (String.prototype as { toWellFormed?: (this: string) => string }).toWellFormed;

/**
 * `text` as well-formed UTF-16: each lone surrogate (half of a pair without its other half)
 * becomes U+FFFD, as a UTF-8 encoder would. Returns the same string when nothing is lone.
 */
export function wellFormed(text: string): string {
  return native ? native.call(text) : text.replace(LONE_SURROGATE, '\uFFFD');
}
