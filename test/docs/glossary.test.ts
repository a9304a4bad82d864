/**
 * docs/GLOSSARY.md explains each term once, and every link into it from the other docs lands on
 * one of its terms.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { glossaryLines } from '../../src/report/markdown.ts';

const GLOSSARY = readFileSync('docs/GLOSSARY.md', 'utf8');
const terms = [...GLOSSARY.matchAll(/^### (.+)$/gm)].map((match) => match[1]!);
/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const anchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
const docs = [
  'README.md',
  ...readdirSync('docs')
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

describe('docs/GLOSSARY.md', () => {
  it('explains each term once, in alphabetical order', () => {
    expect(terms.length).toBeGreaterThan(10);
    expect(new Set(terms).size).toBe(terms.length);
    expect(terms).toEqual([...terms].sort());
    for (const term of [
      'schema cache',
      'advisory lock',
      'compose profile',
      'lineage',
      'cutover',
      'plan',
      'reconcile',
      'reject',
    ])
      expect(terms).toContain(term);
  });

  it('ends with the words of the reports, as every report explains them on the page', () => {
    const section = GLOSSARY.slice(GLOSSARY.indexOf('\n## Words of the reports\n'));
    const items = section.split('\n').filter((line) => line.startsWith('- **'));
    expect(items).toEqual(glossaryLines());
  });

  it('is linked from the runbook, the migration guide and the service inventory', () => {
    for (const doc of ['docs/RUNBOOK.md', 'docs/MIGRATING_CODA.md', 'docs/SERVICE_INVENTORY.md'])
      expect(readFileSync(doc, 'utf8'), doc).toMatch(/\]\(GLOSSARY\.md[#)]/);
  });

  it('has a term for every link into it', () => {
    const anchors = new Set(terms.map(anchor));
    const broken = docs.flatMap((doc) =>
      [...readFileSync(doc, 'utf8').matchAll(/GLOSSARY\.md#([a-z0-9-]+)/g)]
        .map((match) => match[1]!)
        .filter((target) => !anchors.has(target))
        .map((target) => `${doc}: #${target}`),
    );
    expect(broken).toEqual([]);
  });
});
