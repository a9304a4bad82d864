/**
 * The owner's words for erp names: a table by its Coda name, a column by the Coda column it reads
 * (as the doc names it now), a stored choice by the Coda label(s) that load as it.
 */
import { describe, expect, it } from 'vitest';
import { parseMappingSpec } from '../../src/transform/mapping-spec.ts';
import { vocabularyOf } from '../../src/transform/vocabulary.ts';
import { wordsOf } from '../../src/report/words.ts';

const mapping = parseMappingSpec(
  'mappings dir/jobs.yaml',
  `coda: { table: grid-Jobs00001, name: "Jobs (old name)" }
target: erp.projects
columns:
  name: { from: c-Name000001, label: "Name", as: text }
  status:
    from: c-Stage00001
    label: "Stage (old)"
    as: select
    values: { "Doing": active, "In Progress": active, "Done": completed }
  tags: { from: c-Tags000001, as: tags, values: { "Ünïcode ✓": unicode } }
  billable: { value: true, as: constant }
`,
);
const docTable = {
  id: 'grid-Jobs00001',
  name: 'Engagements & Jobs',
  columns: [{ id: 'c-Stage00001', name: 'Étape' }],
} as never;

describe('the words of a report', () => {
  const vocabulary = vocabularyOf([mapping], [docTable]);
  const words = wordsOf(vocabulary);

  it('names the mapping folder as given, for the next command', () => {
    expect(vocabulary.mappingsFolder).toBe('mappings dir');
  });

  it('names tables and columns as the doc does now, else as the mapping remembers them', () => {
    expect(words.table('erp.projects')).toBe('Engagements & Jobs');
    expect(words.column('erp.projects', 'status')).toBe('Étape');
    expect(words.column('erp.projects', 'name')).toBe('Name');
    // Neither the doc nor the mapping names it: the erp column, never the Coda column's id.
    expect(words.column('erp.projects', 'tags')).toBe('tags');
    // A constant reads no Coda column, and a table no mapping loads keeps its erp name.
    expect(words.column('erp.projects', 'billable')).toBe('billable');
    expect(words.table('erp.tasks')).toBe('erp.tasks');
  });

  it('shows a stored choice by every Coda label that loads as it, in tags too', () => {
    expect(words.value('erp.projects', 'status', 'active')).toBe('"Doing or In Progress"');
    expect(words.value('erp.projects', 'status', 'completed')).toBe('"Done"');
    expect(words.value('erp.projects', 'tags', ['unicode', 'other'])).toBe('["Ünïcode ✓","other"]');
    // A value the mapping does not list, and an empty one, stay as they are.
    expect(words.value('erp.projects', 'status', 'archived')).toBe('"archived"');
    expect(words.value('erp.projects', 'status', null)).toBe('(empty)');
  });
});
