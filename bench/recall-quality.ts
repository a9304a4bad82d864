/**
 * What agent.recall finds (migration 018), beside how fast: a labelled set of memories in
 * English, German and Portuguese over several clients, with questions whose expected memory is
 * known, phrased the way agents misphrase them: typos, other forms of a word, accents left out,
 * punctuation and hyphens, a question sharing only some words. Reports recall@3 and MRR per kind
 * and the p95 latency of those recalls, and how many near-duplicate wordings merged.
 *
 * Each memory is "<person> <looks after> the <topic> of <place>": the topic and the place tell
 * it apart, and every topic and place recurs in other memories of the client, so a question
 * that finds the right words only in part ranks the wrong memory first.
 */
import type pg from 'pg';

type Language = 'en' | 'de' | 'pt';
export type QuestionKind = 'typo' | 'word form' | 'accents' | 'punctuation' | 'partial words';
const QUESTION_KINDS: QuestionKind[] = ['typo', 'word form', 'accents', 'punctuation', 'partial words'];

interface Topic {
  /** As the memory says it. */
  written: string;
  /** Another form of the same word, as a question says it. */
  asked: string;
}

interface LanguageSet {
  template: (person: string, topic: string, place: string) => string;
  question: (topic: string, place: string) => string;
  topics: Topic[];
}

const PLACES = ['München', 'São Paulo', 'Zürich', 'Málaga', 'Köln', 'Lisboa', 'Hamburg', 'Porto'];
const PERSONS = ['Anna', 'Bruno', 'Carla', 'Dieter', 'Elena', 'Fabio', 'Greta', 'Hugo', 'Ines', 'Jonas'];

const LANGUAGES: Record<Language, LanguageSet> = {
  en: {
    template: (person, topic, place) => `${person} looks after the ${topic} of the ${place} office`,
    question: (topic, place) => `who handles ${topic} in ${place}?`,
    topics: [
      { written: 'invoices', asked: 'invoice' },
      { written: 'deliveries', asked: 'delivery' },
      { written: 'contracts', asked: 'contract' },
      { written: 'meetings', asked: 'meeting' },
      { written: 'payments', asked: 'paying' },
      { written: 'shipments', asked: 'shipment' },
      { written: 'warehouses', asked: 'warehouse' },
      { written: 'suppliers', asked: 'supplier' },
    ],
  },
  de: {
    template: (person, topic, place) => `${person} kümmert sich um die ${topic} in ${place}`,
    question: (topic, place) => `wer macht ${topic} in ${place}?`,
    topics: [
      { written: 'Rechnungen', asked: 'Rechnung' },
      { written: 'Lieferungen', asked: 'Lieferung' },
      { written: 'Verträge', asked: 'Vertrag' },
      { written: 'Besprechungen', asked: 'Besprechung' },
      { written: 'Zahlungen', asked: 'Zahlung' },
      { written: 'Bestellungen', asked: 'Bestellung' },
      { written: 'Mahnungen', asked: 'Mahnung' },
      { written: 'Lieferanten', asked: 'Lieferant' },
    ],
  },
  pt: {
    template: (person, topic, place) => `${person} cuida das ${topic} de ${place}`,
    question: (topic, place) => `quem trata ${topic} em ${place}?`,
    topics: [
      { written: 'faturas', asked: 'fatura' },
      { written: 'entregas', asked: 'entrega' },
      { written: 'encomendas', asked: 'encomenda' },
      { written: 'reuniões', asked: 'reunião' },
      { written: 'cobranças', asked: 'cobrança' },
      { written: 'remessas', asked: 'remessa' },
      { written: 'propostas', asked: 'proposta' },
      { written: 'contratações', asked: 'contratação' },
    ],
  },
};

export interface LabelledMemory {
  clientId: string;
  language: Language;
  content: string;
}

export interface LabelledQuestion {
  clientId: string;
  kind: QuestionKind;
  query: string;
  /** Index into memories. */
  expected: number;
}

export interface RecallQualitySet {
  memories: LabelledMemory[];
  questions: LabelledQuestion[];
  /** Other wordings of memories (case, punctuation, hyphens), each expected to merge into it. */
  duplicates: { memory: number; content: string }[];
}

/** One typo at a position chosen by `random`: two letters swapped, one dropped, doubled or replaced. */
function misspell(word: string, random: () => number): string {
  const at = 1 + Math.floor(random() * (word.length - 2));
  switch (Math.floor(random() * 4)) {
    case 0:
      return word.slice(0, at) + word[at + 1] + word[at] + word.slice(at + 2);
    case 1:
      return word.slice(0, at) + word.slice(at + 1);
    case 2:
      return word.slice(0, at) + word[at] + word.slice(at);
    default:
      return `${word.slice(0, at)}${word[at] === 'e' ? 'a' : 'e'}${word.slice(at + 1)}`;
  }
}

const foldAccents = (text: string) => text.normalize('NFD').replace(/\p{M}/gu, '');

/** A hyphen inside the word, as a line break leaves it ("Rech-nungen"). */
const hyphenate = (word: string) => `${word.slice(0, 4)}-${word.slice(4)}`;

function question(kind: QuestionKind, set: LanguageSet, topic: Topic, place: string, random: () => number) {
  switch (kind) {
    case 'typo':
      return set.question(misspell(topic.written, random), place);
    case 'word form':
      return set.question(topic.asked, place);
    case 'accents':
      return foldAccents(set.question(topic.written, place)).toUpperCase();
    case 'punctuation':
      return `${place}: ${hyphenate(topic.written)}!!`;
    case 'partial words':
      return `${topic.asked} ${place} budget next quarter status`;
  }
}

/**
 * The labelled set: two clients per language (the six of clientIds, in turn), each with every
 * topic at every place (64 memories), one question per memory (the kinds in turn) and a
 * near-duplicate wording of every fourth memory.
 */
export function recallQualitySet(clientIds: string[], random: () => number): RecallQualitySet {
  const memories: LabelledMemory[] = [];
  const questions: LabelledQuestion[] = [];
  const duplicates: { memory: number; content: string }[] = [];
  const clientsPerLanguage = 2;
  for (const [languageIndex, [language, set]] of (
    Object.entries(LANGUAGES) as [Language, LanguageSet][]
  ).entries())
    for (let client = 0; client < clientsPerLanguage; client += 1) {
      const clientId = clientIds[(languageIndex * clientsPerLanguage + client) % clientIds.length]!;
      for (const [topicIndex, topic] of set.topics.entries())
        for (const [placeIndex, place] of PLACES.entries()) {
          const person = PERSONS[(topicIndex * 3 + placeIndex + client) % PERSONS.length]!;
          const content = set.template(person, topic.written, place);
          const index = memories.push({ clientId, language, content }) - 1;
          const kind = QUESTION_KINDS[index % QUESTION_KINDS.length]!;
          questions.push({
            clientId,
            kind,
            query: question(kind, set, topic, place, random),
            expected: index,
          });
          if (index % 4 === 0)
            duplicates.push({
              memory: index,
              content: `  ${content
                .toLowerCase()
                .replace(' the ', ' the  ')
                .replace(/ (\S+)$/, ' $1.')}`,
            });
        }
    }
  return { memories, questions, duplicates };
}

export interface RecallQualityFigures {
  memories: number;
  clients: number;
  questions: number;
  /** Per kind and overall: share of questions whose memory is among the first 3, and mean reciprocal rank. */
  byKind: Record<QuestionKind | 'all', { questions: number; recallAt3: number; mrr: number }>;
  p50Ms: number;
  p95Ms: number;
  duplicates: number;
  duplicatesMerged: number;
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

/**
 * Remembers the set through `connection` (a role that may act for every client), asks every
 * question once with agent.recall and scores the answers.
 */
export async function measureRecallQuality(
  connection: pg.Client,
  set: RecallQualitySet,
): Promise<RecallQualityFigures> {
  const ids: string[] = [];
  for (const memory of set.memories) {
    const { rows } = await connection.query<{ id: string }>(
      'SELECT id FROM agent.remember(client_id => $1, content => $2, language => $3)',
      [memory.clientId, memory.content, memory.language],
    );
    ids.push(rows[0]!.id);
  }
  let duplicatesMerged = 0;
  for (const duplicate of set.duplicates) {
    const memory = set.memories[duplicate.memory]!;
    const { rows } = await connection.query<{ id: string }>(
      'SELECT id FROM agent.remember(client_id => $1, content => $2, language => $3)',
      [memory.clientId, duplicate.content, memory.language],
    );
    if (rows[0]!.id === ids[duplicate.memory]) duplicatesMerged += 1;
  }

  const ranks: { kind: QuestionKind; rank: number | null }[] = [];
  const times: number[] = [];
  for (const question of set.questions) {
    const started = performance.now();
    const { rows } = await connection.query<{ id: string }>('SELECT id FROM agent.recall($1, $2, 10)', [
      question.clientId,
      question.query,
    ]);
    times.push(performance.now() - started);
    const position = rows.findIndex((row) => row.id === ids[question.expected]);
    ranks.push({ kind: question.kind, rank: position < 0 ? null : position + 1 });
  }
  times.sort((a, b) => a - b);
  const score = (selected: typeof ranks) => ({
    questions: selected.length,
    recallAt3: round(
      selected.filter((entry) => entry.rank !== null && entry.rank <= 3).length / selected.length,
    ),
    mrr: round(selected.reduce((sum, entry) => sum + (entry.rank ? 1 / entry.rank : 0), 0) / selected.length),
  });
  const byKind = Object.fromEntries([
    ...QUESTION_KINDS.map((kind) => [kind, score(ranks.filter((entry) => entry.kind === kind))]),
    ['all', score(ranks)],
  ]) as RecallQualityFigures['byKind'];
  return {
    memories: set.memories.length,
    clients: new Set(set.memories.map((memory) => memory.clientId)).size,
    questions: set.questions.length,
    byKind,
    p50Ms: round(percentile(times, 0.5)),
    p95Ms: round(percentile(times, 0.95)),
    duplicates: set.duplicates.length,
    duplicatesMerged,
  };
}

const round = (value: number) => Math.round(value * 1000) / 1000;

export function renderRecallQualityMarkdown(figures: RecallQualityFigures, targetRecallAt3: number): string {
  const rows = [...QUESTION_KINDS, 'all' as const].map((kind) => {
    const figure = figures.byKind[kind];
    return `| ${kind} | ${figure.questions} | ${figure.recallAt3} | ${figure.mrr} |`;
  });
  const met = figures.byKind.all.recallAt3 >= targetRecallAt3;
  return `## What recall finds

${figures.memories} labelled memories of ${figures.clients} clients (English, German, Portuguese), one question each (bench/recall-quality.ts); recall of 10, p50 ${figures.p50Ms} ms, p95 ${figures.p95Ms} ms (memory_gateway connection).

| question | questions | recall@3 | MRR |
|---|---|---|---|
${rows.join('\n')}

Target: recall@3 at least ${targetRecallAt3} over the word-level questions: **${met ? 'met' : 'missed'}** (${figures.byKind.all.recallAt3}).

Near-duplicate wordings (case, spacing, a trailing full stop) merged into their memory: ${figures.duplicatesMerged} of ${figures.duplicates}.
`;
}
