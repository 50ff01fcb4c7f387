import type { NotebookDocument } from '../../notebook/document.js';

/**
 * For the replies of tools that save without running a cell (markdown, delete_cell): what the
 * save merged from someone else's edits, told once. Only when there is something to tell, so a
 * plain reply stays as it was.
 */
export function diskNotes(notebook: NotebookDocument): { notes?: string[] } {
  const notes = notebook.takeDiskNotes();
  return notes.length ? { notes } : {};
}
