import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';

/**
 * The resume benchmark's notebook (nbformat 4.5): `cells` code cells doing small work,
 * `x{i} = sum(range(1000)); print(x{i})`, no outputs yet, python3 kernelspec.
 */
export function resumeNotebook(cells: number): string {
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' },
      language_info: { name: 'python' },
    },
    cells: Array.from({ length: cells }, (_, i) => ({
      cell_type: 'code',
      id: randomBytes(4).toString('hex'),
      metadata: {},
      execution_count: null,
      outputs: [],
      source: `x${i} = sum(range(1000)); print(x${i})`,
    })),
  };
  return `${JSON.stringify(notebook, null, 1)}\n`;
}

export async function writeResumeNotebook(file: string, cells: number): Promise<void> {
  await writeFile(file, resumeNotebook(cells));
}
