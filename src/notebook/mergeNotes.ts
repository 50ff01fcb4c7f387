import path from 'node:path';
import type { MergeEvent } from './merge.js';
import type { Cell } from './types.js';

/** At most this many cell numbers in one list of the summary. */
const LISTED = 8;

/**
 * What the agent reads after someone else's edits were merged: one summary line, then one
 * line per cell that needs a decision (a conflict, a deletion we overrode). Cells are named by
 * their position now and their id (positions move; ids do not).
 */
export function mergeNotes(notebook: string, events: readonly MergeEvent[], cells: readonly Cell[]): string[] {
  if (events.length === 0) return [];
  const positions = new Map(cells.map((cell, index) => [cell.id, index]));
  const at = (id: string) => positions.get(id) ?? -1;
  const name = (id: string) => `cell ${at(id)} (id ${id})`;
  const of = (kind: MergeEvent['kind']) => events.filter((event) => event.kind === kind) as Array<MergeEvent & { id: string }>;
  const parts: string[] = [];
  const added = of('added');
  if (added.length) parts.push(`${plural(added.length, 'cell')} added (${list(added.map((event) => at(event.id)))})`);
  const deleted = of('deleted');
  if (deleted.length) parts.push(`${plural(deleted.length, 'cell')} deleted`);
  const edited = of('edited');
  if (edited.length) parts.push(`${plural(edited.length, 'cell')} edited (${list(edited.map((event) => at(event.id)))})`);
  if (of('moved').length) parts.push('cells moved');
  const notes: string[] = [];
  const summary = parts.length ? `: ${parts.join('; ')}` : '';
  notes.push(
    `Someone else changed ${path.basename(notebook)} on disk while this session worked${summary}. Their changes are kept and merged with yours; cell positions may have moved (read_notebook shows the notebook as it is now).`,
  );
  for (const event of events) {
    if (event.kind === 'conflict' && event.running) {
      notes.push(
        `Conflict in ${name(event.oursId)}: it was changed on disk while it runs. Yours keeps its id and outputs as ${name(event.oursId)}; their version is just before it as ${name(event.id)}. Keep one and delete_cell the other once the run ends.`,
      );
    } else if (event.kind === 'conflict') {
      notes.push(
        `Conflict in ${name(event.id)}: it was changed on disk and by you. Their version stays as ${name(event.id)}; yours, with its outputs, follows it as ${name(event.oursId)}. Keep one and delete_cell the other.`,
      );
    } else if (event.kind === 'kept_deleted') {
      notes.push(
        `${capital(name(event.id))} was deleted on disk, but ${event.running ? 'it is running' : 'you changed it since'}: it is kept. delete_cell removes it if that was meant.`,
      );
    } else if (event.kind === 'restored') {
      notes.push(`${capital(name(event.id))}, which you deleted, was edited on disk meanwhile: their version is back.`);
    }
  }
  return notes;
}

export function brokenFileNote(notebook: string, aside: string, why: string): string {
  return `${notebook} was changed on disk and is not a notebook jlab-mcp can read now (${why}): it was not overwritten. This session's notebook is saved to ${aside} instead, on every save, until ${path.basename(notebook)} is a valid notebook again; then both are merged. To go on with this session's version, move ${path.basename(aside)} over it.`;
}

export function repairedFileNote(notebook: string, aside: string): string {
  return `${path.basename(notebook)} is a valid notebook again; this session's work is merged into it. ${path.basename(aside)} holds the last version saved aside and can be deleted.`;
}

export function missingFileNote(notebook: string): string {
  return `${notebook} was not on disk any more (deleted or renamed by someone else?): jlab-mcp wrote it again with this session's cells.`;
}

function list(indices: number[]): string {
  const shown = indices.slice(0, LISTED).join(', ');
  return indices.length > LISTED ? `${shown}, … ${indices.length - LISTED} more` : shown;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
