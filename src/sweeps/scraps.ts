import { readFile } from 'node:fs/promises';
import { SCRAP_MIME } from './recordHelper.js';

/**
 * The values a run recorded: every display of `application/scrapbook.scrap.json+json` in its
 * notebook (scrapbook's `glue`, or the record helper), by name, the later one winning as in
 * scrapbook. Only the json encoder is read; a value in another encoding (pandas, arrow) is skipped.
 */
export function scrapsOf(notebook: unknown): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const cells = (notebook as { cells?: unknown })?.cells;
  if (!Array.isArray(cells)) return values;
  for (const cell of cells) {
    const outputs = (cell as { outputs?: unknown })?.outputs;
    if (!Array.isArray(outputs)) continue;
    for (const output of outputs) {
      const scrap = (output as { data?: Record<string, unknown> })?.data?.[SCRAP_MIME] as { name?: unknown; data?: unknown; encoder?: unknown } | undefined;
      if (!scrap || typeof scrap.name !== 'string' || (scrap.encoder !== undefined && scrap.encoder !== 'json')) continue;
      values[scrap.name] = scrap.data;
    }
  }
  return values;
}

/** The values recorded in the notebook file at `notebookPath`; none when it cannot be read. */
export async function readScraps(notebookPath: string): Promise<Record<string, unknown>> {
  try {
    return scrapsOf(JSON.parse(await readFile(notebookPath, 'utf8')));
  } catch {
    return {};
  }
}
