import type * as nbformat from '@jupyterlab/nbformat';

/** nbformat 4.5 shapes as we hold them in memory: `source` always a single string. */
export type Output = nbformat.IOutput;
export type MimeBundle = nbformat.IMimeBundle;

export interface CodeCell {
  cell_type: 'code';
  id: string;
  metadata: Record<string, unknown>;
  source: string;
  outputs: Output[];
  execution_count: number | null;
}

export interface MarkdownCell {
  cell_type: 'markdown';
  id: string;
  metadata: Record<string, unknown>;
  source: string;
  attachments?: Record<string, unknown>;
}

export interface RawCell {
  cell_type: 'raw';
  id: string;
  metadata: Record<string, unknown>;
  source: string;
  attachments?: Record<string, unknown>;
}

export type Cell = CodeCell | MarkdownCell | RawCell;

export interface KernelSpecInfo {
  name: string;
  display_name: string;
  language?: string;
}

export interface NotebookContent {
  nbformat: 4;
  nbformat_minor: number;
  metadata: Record<string, unknown> & {
    kernelspec?: KernelSpecInfo;
    language_info?: Record<string, unknown>;
  };
  cells: Cell[];
}
