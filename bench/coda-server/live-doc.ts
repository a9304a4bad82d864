/**
 * The served doc as changes made during a test or a bench leave it. A fixture table is served as
 * generated (rows built on demand, any size) until something changes it; edits alone are kept
 * beside it, and an insert, a deletion or a column change turns it into a plain list of rows.
 *
 * Every change takes the next doc version and moves the table's `updatedAt`: a sync token
 * remembers the version it was issued at, and a read through it lists the rows whose last change
 * is newer. Deleted rows are simply gone, as in Coda: no read through a token lists them.
 */
import type {
  FixtureCellValue,
  FixtureColumn,
  FixtureDoc,
  FixtureRow,
  FixtureTable,
} from './fixture-types.ts';

/** A row a sync read returns, with its place in the table. */
export interface ChangedRow {
  row: FixtureRow;
  index: number;
}

interface TableState {
  /** Set by the first insert, deletion or column change: the rows in creation order. */
  rows?: FixtureRow[];
  /** Until then, the edited rows by id, with their place in the generated table. */
  edited: Map<string, ChangedRow>;
  /** The doc version of each row's last change. */
  versions: Map<string, number>;
  columns?: FixtureColumn[];
  updatedAt?: string;
}

export class LiveDoc {
  /** The version of the last change; a sync token issued now returns changes after it. */
  version = 0;
  /** Sync tokens issued before the last expireSyncTokens() carry an older epoch and are refused. */
  syncEpoch = 0;
  private readonly states = new Map<string, TableState>();
  private lastStampMs = 0;

  constructor(readonly fixture: FixtureDoc) {}

  columns(table: FixtureTable): FixtureColumn[] {
    return this.states.get(table.id)?.columns ?? table.columns;
  }

  rowCount(table: FixtureTable): number {
    return this.states.get(table.id)?.rows?.length ?? table.rowCount;
  }

  rowAt(table: FixtureTable, index: number): FixtureRow {
    const state = this.states.get(table.id);
    const rows = state?.rows;
    if (rows) {
      const row = rows[index];
      if (!row) throw new Error(`${table.name} has no row at ${index}`);
      return row;
    }
    const row = table.rowAt(index);
    return state?.edited.get(row.id)?.row ?? row;
  }

  updatedAt(table: FixtureTable): string {
    return this.states.get(table.id)?.updatedAt ?? table.updatedAt;
  }

  /** The rows changed after `version`, in the table's order. */
  changedSince(table: FixtureTable, version: number): ChangedRow[] {
    const state = this.states.get(table.id);
    if (!state) return [];
    const isNewer = (id: string) => (state.versions.get(id) ?? 0) > version;
    if (state.rows) {
      return state.rows.flatMap((row, index) => (isNewer(row.id) ? [{ row, index }] : []));
    }
    return [...state.edited.values()].filter(({ row }) => isNewer(row.id)).sort((a, b) => a.index - b.index);
  }

  /** Changes cells of a row, as an edit in Coda would. */
  editRow(table: FixtureTable, rowId: string, values: Record<string, FixtureCellValue>): void {
    const state = this.state(table);
    const index = this.indexOf(table, rowId);
    const row = this.rowAt(table, index);
    const edited = { ...row, updatedAt: this.stamp(), values: { ...row.values, ...values } };
    if (state.rows) state.rows[index] = edited;
    else state.edited.set(rowId, { row: edited, index });
    this.changed(state, rowId, edited.updatedAt);
  }

  /** Adds a row at the end: Coda lists rows by creation time, so a new row comes last. */
  insertRow(table: FixtureTable, id: string, values: Record<string, FixtureCellValue>): void {
    const rows = this.materialise(table);
    if (rows.some((row) => row.id === id)) throw new Error(`${table.name} already has a row ${id}`);
    const at = this.stamp();
    rows.push({ id, createdAt: at, updatedAt: at, values });
    this.changed(this.state(table), id, at);
  }

  deleteRow(table: FixtureTable, rowId: string): void {
    const rows = this.materialise(table);
    rows.splice(this.indexOf(table, rowId), 1);
    const state = this.state(table);
    state.versions.delete(rowId);
    this.changed(state, undefined, this.stamp());
  }

  /**
   * A row dragged to another place in the doc. The API lists rows by creation time whatever their
   * place, so no row changes; only the table's `updatedAt` moves, as for any change to the table.
   */
  moveRow(table: FixtureTable, rowId: string): void {
    this.indexOf(table, rowId);
    this.changed(this.state(table), undefined, this.stamp());
  }

  /** Replaces the columns (added, removed, renamed, reordered); no row changes with them. */
  setColumns(table: FixtureTable, columns: FixtureColumn[]): void {
    this.materialise(table);
    const state = this.state(table);
    state.columns = columns;
    this.changed(state, undefined, this.stamp());
  }

  expireSyncTokens(): void {
    this.syncEpoch += 1;
  }

  private state(table: FixtureTable): TableState {
    let state = this.states.get(table.id);
    if (!state) {
      state = { edited: new Map(), versions: new Map() };
      this.states.set(table.id, state);
    }
    return state;
  }

  private materialise(table: FixtureTable): FixtureRow[] {
    const state = this.state(table);
    if (!state.rows) {
      state.rows = Array.from({ length: table.rowCount }, (_, index) => this.rowAt(table, index));
      state.edited.clear();
    }
    return state.rows;
  }

  private indexOf(table: FixtureTable, rowId: string): number {
    const count = this.rowCount(table);
    for (let index = 0; index < count; index += 1) {
      if (this.rowAt(table, index).id === rowId) return index;
    }
    throw new Error(`${table.name} has no row ${rowId}`);
  }

  private changed(state: TableState, rowId: string | undefined, at: string): void {
    this.version += 1;
    if (rowId !== undefined) state.versions.set(rowId, this.version);
    state.updatedAt = at;
  }

  /** Strictly increasing, so that two changes in the same millisecond still move `updatedAt`. */
  private stamp(): string {
    this.lastStampMs = Math.max(Date.now(), this.lastStampMs + 1);
    return new Date(this.lastStampMs).toISOString();
  }
}
