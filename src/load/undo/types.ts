/** What an undo reports, as data: src/report/undo.ts words it. */
import type { OutcomeNote } from '../core/outcomes.ts';
import type { FieldChange } from '../core/reports.ts';
import type { AbandonedRun } from '../lifecycle/with-run.ts';

/** A field as the undo shows it: its Coda name, and its two values. */
export interface UndoFieldChange extends FieldChange {
  label: string;
}

export interface UndoRow {
  table: string;
  name: string;
  browserLink: string | null;
}

export interface UndoBlocker extends UndoRow {
  /** edited: changed in Postgres after the cutover; depended: other rows point at it. */
  reason: 'edited' | 'depended';
  /** For depended: which rows point at it, e.g. "2 row(s) of agent.sessions". */
  dependants: string[];
  /** For edited: each field as the cutover left it and as it is now. */
  changes: UndoFieldChange[];
}

export interface UndoTable {
  target: string;
  removed: UndoRow[];
  restored: (UndoRow & { changes: UndoFieldChange[] })[];
}

export interface UndoReport {
  runId: string;
  mode: 'undo';
  undoneRun: { id: string; startedAt: string; source: string };
  /** Later cutovers that changed nothing: skipped to reach the undone one, and undone with it. */
  skippedRuns: { id: string; startedAt: string }[];
  doc: { id: string };
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  outcome: 'undone' | 'planned' | 'rolled_back';
  /** Why nothing was undone (src/report words it). */
  outcomeNote: OutcomeNote | null;
  tables: UndoTable[];
  /** erp table -> the Coda table it is loaded from, by the mapping's name for it. */
  codaTables: Record<string, string>;
  /** Rows that stop the undo, or with keepChanged, that it keeps as they are. */
  blockers: UndoBlocker[];
  kept: boolean;
  /** Earlier runs this one found left running by a process that died, and marked abandoned. */
  abandonedRuns: AbandonedRun[];
}
