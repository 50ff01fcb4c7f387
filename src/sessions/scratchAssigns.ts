/**
 * Whether Python code binds or unbinds a name at the top level (`x = …`, `x += …`, `x: int = …`,
 * `a, b = …`, `df["c"] = …`, `obj.attr = …`, `import`, `from … import`, `def`, `class`, `del`,
 * `for x in …`, `with … as x`): a scratch run that does so changes the kernel in a way a resume
 * from the notebook would not reproduce. A plain line check, not a parser: Python only, and
 * nested or dynamic changes (`exec`, a call that mutates, an assignment inside an `if`) go
 * unnoticed — it feeds a note, never a refusal.
 */
export function assignsNames(code: string): boolean {
  return code.split('\n').some((line) => TOP_LEVEL_BINDING.some((pattern) => pattern.test(stripStrings(line))));
}

const TARGET = String.raw`[A-Za-z_][\w.]*(?:\[[^\]]*\])*`;
const TOP_LEVEL_BINDING = [
  // one or more targets (a, b = …; x: int = …), then an (augmented) assignment, never ==
  new RegExp(String.raw`^\(?${TARGET}(?:\s*,\s*\*?${TARGET})*\s*\)?\s*(?::[^=]+)?(?:[-+*/%@&|^]|//|\*\*|<<|>>)?=(?!=)`),
  /^(?:import|from)\s+\S/,
  /^(?:async\s+)?(?:def|class)\s+\w/,
  /^del\s+\S/,
  /^(?:async\s+)?for\s+[\w\s,()*]+\s+in\s/,
  /^(?:async\s+)?with\s+.*\bas\s+\w/,
  /^@\w/, // a decorated def or class
];

/** The line with its string literals emptied, so `print("a = b")` does not read as an assignment. */
function stripStrings(line: string): string {
  return line.replace(/("|')(?:\\.|(?!\1).)*\1/g, '""');
}
