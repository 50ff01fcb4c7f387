/**
 * Removal of terminal control sequences (ANSI/ECMA-48) from kernel output.
 *
 * Every pattern below is a single pass with disjoint character classes, so
 * the work is linear in the input length even for multi-megabyte strings.
 */

/**
 * String-type sequences: OSC (`ESC ]` / U+009D), DCS (`ESC P` / U+0090),
 * SOS (`ESC X` / U+0098), PM (`ESC ^` / U+009E), APC (`ESC _` / U+009F).
 * Terminated by BEL, ST (`ESC \`) or U+009C.
 */
// Why stop at ESC/newline when unterminated: a stray `ESC ]` must not swallow the rest of the output.
const STRING_SEQ = String.raw`(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?`;

/** CSI: `ESC [` or U+009B, parameter bytes 0x30–0x3F, intermediates 0x20–0x2F, final 0x40–0x7E. */
// Why the final byte is optional: an incomplete CSI (chunk cut mid-sequence) is still dropped.
const CSI_SEQ = String.raw`(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?`;

/** Other escapes: nF (`ESC ( B`), Fp (`ESC 7`, `ESC =`), Fe/Fs (`ESC M`, `ESC c`), or a lone ESC. */
const OTHER_ESC = String.raw`\x1b[\x20-\x2f]*[\x30-\x7e]?`;

/** Leftover C0 controls except `\b` (08), `\t` (09), `\n` (0A), `\r` (0D); plus DEL and C1 controls. */
const LONE_CONTROLS = String.raw`[\x00-\x07\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f]`;

// Order matters: string sequences and CSI must win over the generic ESC alternative.
const CONTROL_RE = new RegExp(`${STRING_SEQ}|${CSI_SEQ}|${OTHER_ESC}|${LONE_CONTROLS}`, 'g');

/** Cheap pre-check: any character that could start something we remove. */
const HAS_CONTROL_RE = /[\x00-\x07\x0b\x0c\x0e-\x1f\x7f-\x9f]/;

/**
 * Remove all terminal control sequences from `text`.
 *
 * - CSI sequences (colours `\x1b[1;31m`, cursor moves `\x1b[2K`, `\x1b[A`,
 *   private modes `\x1b[?25l`) and their 8-bit form U+009B.
 * - OSC sequences terminated by BEL or ST (and 8-bit U+009D): window titles
 *   vanish; OSC 8 hyperlinks keep their visible text (only the URL-carrying
 *   escape parts are removed). DCS/SOS/PM/APC are removed the same way.
 * - Other ESC sequences (`ESC ( B`, `ESC =`, `ESC 7`, ...).
 * - Remaining C0 controls, DEL and C1 controls, EXCEPT `\n`, `\t`, `\r`, `\b`,
 *   which are left for {@link applyCarriageReturnsAndBackspaces}.
 *
 * Linear time; returns the input unchanged (same string) when it has no controls.
 */
export function stripTerminalControls(text: string): string {
  if (!HAS_CONTROL_RE.test(text)) return text;
  return text.replace(CONTROL_RE, '');
}
