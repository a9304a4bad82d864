/**
 * Every table and column of the data model exists with its intended type and nullability, and
 * nothing else does (spec/data-model.md; additions to the contract are marked). Also: identity
 * ids, the generated variance_pct, no json columns, and comments for the docs generator.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { dropDatabase, openSession } from './fixtures.ts';

/** type, with '!' when NOT NULL. */
type Columns = Record<string, string>;

const TS = 'timestamptz!';

const EXPECTED: Record<string, Columns> = {
  // erp: core 6
  'erp.people': {
    id: 'bigint!',
    global_id: 'text',
    full_name: 'text!',
    email: 'text',
    handle: 'text',
    role_label: 'text',
    notes: 'text',
    is_active: 'boolean!',
    created_at: TS,
    updated_at: TS,
  },
  'erp.organizations': {
    id: 'bigint!',
    global_id: 'text',
    name: 'text!',
    website: 'text',
    org_type: 'text',
    notes: 'text',
    is_active: 'boolean!',
    created_at: TS,
    updated_at: TS,
  },
  'erp.projects': {
    id: 'bigint!',
    global_id: 'text',
    name: 'text!',
    description: 'text',
    owner_person_id: 'bigint',
    organization_id: 'bigint',
    status: 'text!',
    start_date: 'date',
    end_date: 'date',
    tags: 'text[]!',
    // additions to the contract (Coda links)
    venture_id: 'bigint',
    process_template_id: 'bigint',
    billable: 'boolean!',
    created_at: TS,
    updated_at: TS,
  },
  'erp.engagements': {
    id: 'bigint!',
    global_id: 'text',
    name: 'text!',
    client_org_id: 'bigint',
    primary_contact_id: 'bigint',
    project_id: 'bigint',
    offer_name: 'text',
    status: 'text!',
    start_date: 'date',
    end_date: 'date',
    value_estimate: 'numeric',
    notes: 'text',
    created_at: TS,
    updated_at: TS,
  },
  'erp.tasks': {
    id: 'bigint!',
    global_id: 'text',
    title: 'text!',
    description: 'text',
    project_id: 'bigint',
    engagement_id: 'bigint',
    assignee_id: 'bigint',
    status: 'text!',
    priority: 'text!',
    due_date: 'date',
    estimated_hours: 'numeric',
    actual_hours: 'numeric',
    tags: 'text[]!',
    // additions to the contract (Coda links and schedule)
    sprint_id: 'bigint',
    execution_run_id: 'bigint',
    scheduled_start_date: 'date',
    scheduled_end_date: 'date',
    created_at: TS,
    updated_at: TS,
  },
  'erp.okrs': {
    id: 'bigint!',
    global_id: 'text',
    owner_person_id: 'bigint',
    venture_name: 'text',
    objective: 'text!',
    key_results: 'jsonb!',
    time_horizon_start: 'date',
    time_horizon_end: 'date',
    status: 'text!',
    created_at: TS,
    updated_at: TS,
  },
  // erp: pattern 8
  'erp.service_blueprints': {
    id: 'bigint!',
    global_id: 'text',
    name: 'text!',
    description: 'text',
    customer_actions: 'text',
    frontstage: 'text',
    backstage: 'text',
    support_processes: 'text',
    evidence: 'text',
    version: 'text!',
    status: 'text!',
    tags: 'text[]!',
    owner_person_id: 'bigint', // addition to the contract
    created_at: TS,
    updated_at: TS,
  },
  'erp.workflows': {
    id: 'bigint!',
    global_id: 'text',
    service_blueprint_id: 'bigint',
    name: 'text!',
    description: 'text',
    steps: 'jsonb!',
    estimated_hours: 'numeric',
    automation_status: 'text!',
    version: 'text!',
    status: 'text!',
    tags: 'text[]!',
    owner_person_id: 'bigint', // addition to the contract
    created_at: TS,
    updated_at: TS,
  },
  'erp.process_templates': {
    id: 'bigint!',
    global_id: 'text',
    workflow_id: 'bigint',
    name: 'text!',
    checklist: 'jsonb!',
    template_type: 'text',
    version: 'text!',
    status: 'text!',
    tags: 'text[]!',
    created_at: TS,
    updated_at: TS,
  },
  'erp.execution_runs': {
    id: 'bigint!',
    global_id: 'text',
    process_template_id: 'bigint',
    run_identifier: 'text',
    status: 'text!',
    started_at: 'timestamptz',
    ended_at: 'timestamptz',
    estimated_hours: 'numeric',
    actual_hours: 'numeric',
    variance_pct: 'numeric',
    metadata: 'jsonb!',
    session_id: 'bigint',
    created_at: TS,
    updated_at: TS,
  },
  'erp.ventures': {
    id: 'bigint!',
    global_id: 'text',
    name: 'text!',
    description: 'text',
    status: 'text!',
    owner_person_id: 'bigint',
    created_at: TS,
    updated_at: TS,
  },
  'erp.sprints': {
    id: 'bigint!',
    global_id: 'text',
    name: 'text!',
    start_date: 'date',
    end_date: 'date',
    capacity_hours: 'numeric',
    status: 'text!',
    created_at: TS,
    updated_at: TS,
  },
  'erp.offers': {
    id: 'bigint!',
    global_id: 'text',
    service_blueprint_id: 'bigint',
    name: 'text!',
    description: 'text',
    pricing_model: 'text',
    status: 'text!',
    created_at: TS,
    updated_at: TS,
    // additions to the contract (005_offer_price.sql: Coda prices offers)
    list_price: 'numeric',
    currency: 'text!',
  },
  'erp.deliverables': {
    id: 'bigint!',
    global_id: 'text',
    engagement_id: 'bigint',
    offer_id: 'bigint',
    name: 'text!',
    description: 'text',
    due_date: 'date',
    status: 'text!',
    created_at: TS,
    updated_at: TS,
  },

  // agent: memory 6
  'agent.client_profiles': {
    id: 'bigint!',
    client_id: 'text!',
    name: 'text',
    preferences: 'jsonb!',
    created_at: TS,
    updated_at: TS,
  },
  'agent.memory_entries': {
    id: 'bigint!',
    client_id: 'text!',
    content: 'text!',
    memory_type: 'text!',
    embedding: 'real[]',
    ttl_minutes: 'integer',
    expires_at: 'timestamptz',
    metadata: 'jsonb!',
    created_at: TS,
    // additions to the contract (009_agent_memory.sql: dedup, recall, repeats)
    content_hash: 'bytea',
    search_document: 'tsvector',
    repeat_count: 'integer!',
    last_seen_at: 'timestamptz',
    // 018_recall_quality.sql: the memory's language, for stemming
    language: 'text',
  },
  'agent.memory_facts': {
    id: 'bigint!',
    client_id: 'text!',
    fact_key: 'text!',
    fact_value: 'text!',
    category: 'text',
    confidence_score: 'numeric!',
    metadata: 'jsonb!',
    created_at: TS,
    updated_at: TS,
    // additions to the contract (009_agent_memory.sql: versions with valid and transaction time)
    valid_from: TS,
    recorded_at: TS,
    retracted: 'boolean!',
  },
  'agent.working_state': {
    id: 'bigint!',
    client_id: 'text!',
    state_key: 'text!',
    state_value: 'jsonb!',
    updated_at: TS,
  },
  'agent.episodes': {
    id: 'bigint!',
    client_id: 'text!',
    session_id: 'bigint',
    summary: 'text!',
    embedding: 'real[]',
    metadata: 'jsonb!',
    created_at: TS,
  },
  'agent.webhook_executions': {
    id: 'bigint!',
    client_id: 'text!', // NOT NULL since 020: every key of a client table leads with it
    webhook_url: 'text!',
    payload: 'jsonb!',
    response: 'jsonb!',
    status: 'text!',
    executed_at: TS,
  },
  // agent: operations 7
  'agent.sessions': {
    id: 'bigint!',
    global_id: 'text',
    profile_id: 'bigint',
    session_type: 'text!',
    client_person_id: 'bigint',
    subject_type: 'text',
    subject_id: 'text',
    status: 'text!',
    started_at: TS,
    ended_at: 'timestamptz',
    trace_id: 'text',
    context_recipe_id: 'bigint',
    applied_harness_config: 'jsonb!',
    metadata: 'jsonb!',
    client_id: 'text!', // addition to the contract (016: the row's client; NOT NULL since 020)
  },
  'agent.events': {
    id: 'bigint!',
    session_id: 'bigint',
    occurred_at: TS,
    event_type: 'text!',
    event_source: 'text!',
    subject_type: 'text',
    subject_id: 'text',
    message: 'text',
    payload: 'jsonb!',
    memory_scope: 'text!',
    salience_score: 'numeric',
    promoted_fact_id: 'bigint',
    created_at: TS,
    updated_at: TS,
    client_id: 'text!', // addition to the contract (016: the row's client; NOT NULL since 020)
  },
  'agent.facts': {
    id: 'bigint!',
    global_id: 'text',
    subject_type: 'text',
    subject_id: 'text',
    fact_type: 'text!',
    category: 'text',
    content: 'text!',
    salience_score: 'numeric',
    valid_from: TS,
    valid_to: 'timestamptz',
    source_event_id: 'bigint',
    source_ref: 'text',
    metadata: 'jsonb!',
    created_at: TS,
    updated_at: TS,
    client_id: 'text!', // addition to the contract (016: the row's client; NOT NULL since 020)
  },
  'agent.goals': {
    id: 'bigint!',
    global_id: 'text',
    subject_type: 'text',
    subject_id: 'text',
    title: 'text!',
    description: 'text',
    success_criteria: 'jsonb!',
    status: 'text!',
    priority: 'text!',
    time_horizon_start: 'date',
    time_horizon_end: 'date',
    parent_goal_id: 'bigint',
    created_at: TS,
    updated_at: TS,
    client_id: 'text!', // addition to the contract (016: the row's client; NOT NULL since 020)
  },
  'agent.reflections': {
    id: 'bigint!',
    session_id: 'bigint',
    reflection_date: 'date!',
    mode: 'text!',
    client_person_id: 'bigint',
    scope: 'text!',
    focal_entity_type: 'text',
    focal_entity_id: 'text',
    goals: 'text',
    accomplishments: 'text',
    blockers: 'text',
    decisions: 'text',
    metrics: 'jsonb!',
    next_actions: 'text',
    raw_text: 'text',
    created_at: TS,
    client_id: 'text!', // addition to the contract (016: the row's client; NOT NULL since 020)
  },
  'agent.step_evaluations': {
    id: 'bigint!',
    execution_run_id: 'bigint!',
    step_name: 'text!',
    step_index: 'integer!',
    validator_type: 'text!',
    status: 'text!',
    score: 'numeric',
    feedback: 'text',
    needs_human: 'boolean!',
    created_at: TS,
    client_id: 'text!', // addition to the contract (016: the row's client; NOT NULL since 020)
  },
  'agent.artifacts': {
    id: 'bigint!',
    global_id: 'text',
    artifact_type: 'text!',
    external_id: 'text',
    title: 'text!',
    summary: 'text',
    source_system: 'text',
    metadata: 'jsonb!',
    created_at: TS,
    client_id: 'text!', // addition to the contract (016: the row's client; NOT NULL since 020)
  },
  // agent: config 4
  'agent.profiles': {
    id: 'bigint!',
    global_id: 'text',
    name: 'text!',
    description: 'text',
    system_prompt_template: 'text',
    harness_config: 'jsonb!',
    default_model: 'text',
    default_context_recipe_id: 'bigint',
    is_active: 'boolean!',
    created_at: TS,
    updated_at: TS,
  },
  'agent.tools': {
    id: 'bigint!',
    global_id: 'text',
    name: 'text!',
    description: 'text',
    schema_definition: 'jsonb!',
    is_active: 'boolean!',
    created_at: TS,
    updated_at: TS,
  },
  'agent.context_recipes': {
    id: 'bigint!',
    name: 'text!',
    description: 'text',
    retrieval_spec: 'jsonb!',
    created_at: TS,
  },
  'agent.profile_tools': { profile_id: 'bigint!', tool_id: 'bigint!', is_enabled: 'boolean!' },
  // agent: graph / blocks 4
  'agent.graph_nodes': {
    id: 'bigint!',
    node_type: 'text!',
    node_id: 'text!',
    properties: 'jsonb!',
    created_at: TS,
    updated_at: TS,
    client_id: 'text!', // addition to the contract (016: the row's client; NOT NULL since 020)
  },
  'agent.graph_edges': {
    id: 'bigint!',
    from_node_id: 'bigint!',
    to_node_id: 'bigint!',
    edge_type: 'text!',
    properties: 'jsonb!',
    created_at: TS,
    updated_at: TS,
    client_id: 'text!', // addition to the contract (016: the row's client; NOT NULL since 020)
  },
  'agent.blocks': {
    id: 'bigint!',
    global_id: 'text',
    block_type: 'text!',
    title: 'text',
    body_md: 'text',
    source_table: 'text',
    source_id: 'text',
    artifact_id: 'bigint',
    vector_key: 'text',
    graph_key: 'text',
    metadata: 'jsonb!',
    created_at: TS,
    updated_at: TS,
    client_id: 'text!', // addition to the contract (016: the row's client; NOT NULL since 020)
  },
  'agent.block_actions': {
    id: 'bigint!',
    block_id: 'bigint!',
    action_type: 'text!',
    tool_name: 'text',
    tool_params_template: 'jsonb!',
    is_default: 'boolean!',
    metadata: 'jsonb!',
    client_id: 'text!', // addition to the contract (016: the row's client; NOT NULL since 020)
  },
  // agent: planning 3
  'agent.plans': {
    id: 'bigint!',
    plan_title: 'text!',
    intent: 'text',
    sop: 'jsonb!',
    client_id: 'text!', // NOT NULL since 020: every key of a client table leads with it
    status: 'text!',
    metadata: 'jsonb!',
    created_at: TS,
    updated_at: TS,
  },
  'agent.scheduler_runs': {
    id: 'bigint!',
    plan_id: 'bigint',
    schedule_blocks: 'jsonb!',
    client_id: 'text!', // NOT NULL since 020: every key of a client table leads with it
    status: 'text!',
    calendar_events: 'jsonb!',
    metadata: 'jsonb!',
    created_at: TS,
    updated_at: TS,
  },
  'agent.prompt_templates': {
    id: 'bigint!',
    template_name: 'text!',
    template_type: 'text!',
    content: 'text!',
    version: 'integer!',
    variables: 'jsonb!',
    metadata: 'jsonb!',
    created_at: TS,
    updated_at: TS,
  },
};

/** Columns whose name says it all; every other column must carry a comment. */
const SELF_EXPLANATORY = new Set(['id', 'name', 'title', 'description', 'created_at', 'updated_at']);

const SHORT_TYPES: Record<string, string> = {
  'timestamp with time zone': 'timestamptz',
  ARRAY: 'array',
};

interface InfoColumn {
  table: string;
  column_name: string;
  data_type: string;
  udt_name: string;
  is_nullable: 'YES' | 'NO';
}

let db: TestDatabase;
/** The file's one connection (see openSession). */
let sql: pg.PoolClient;
let actual: Map<string, Columns>;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = await openSession(db);
  const { rows } = await sql.query<InfoColumn>(
    `SELECT c.table_schema || '.' || c.table_name AS table, c.column_name, c.data_type, c.udt_name, c.is_nullable
       FROM information_schema.columns c
       JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)
      WHERE c.table_schema IN ('erp', 'agent') AND t.table_type = 'BASE TABLE'
      ORDER BY c.table_schema, c.table_name, c.ordinal_position`,
  );
  actual = new Map();
  for (const row of rows) {
    const type =
      row.data_type === 'ARRAY'
        ? `${row.udt_name === '_float4' ? 'real' : row.udt_name.replace(/^_/, '')}[]`
        : (SHORT_TYPES[row.data_type] ?? row.data_type);
    const columns = actual.get(row.table) ?? {};
    columns[row.column_name] = row.is_nullable === 'NO' ? `${type}!` : type;
    actual.set(row.table, columns);
  }
});

afterAll(async () => {
  await dropDatabase(db, sql);
});

describe('tables', () => {
  it('erp has exactly the 14 named tables and agent the 24 named tables', () => {
    const tables = [...actual.keys()].sort();
    expect(tables).toEqual(Object.keys(EXPECTED).sort());
    expect(tables.filter((t) => t.startsWith('erp.'))).toHaveLength(14);
    expect(tables.filter((t) => t.startsWith('agent.'))).toHaveLength(24);
  });

  it('nothing is created in public', async () => {
    const { rows } = await sql.query(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'`,
    );
    expect(rows).toEqual([]);
  });
});

describe.each(Object.entries(EXPECTED))('%s', (table, expectedColumns) => {
  it('has exactly the contract columns with their types and nullability', () => {
    expect(actual.get(table)).toEqual(expectedColumns);
  });
});

describe('column details', () => {
  it('every id is a bigint identity GENERATED BY DEFAULT (imports may keep ids)', async () => {
    const { rows } = await sql.query<{
      table: string;
      is_identity: string;
      identity_generation: string | null;
    }>(
      `SELECT table_schema || '.' || table_name AS table, is_identity, identity_generation
         FROM information_schema.columns
        WHERE table_schema IN ('erp', 'agent') AND column_name = 'id'
        ORDER BY 1`,
    );
    expect(rows).toHaveLength(37); // every table but profile_tools (composite key)
    for (const row of rows) {
      expect({ table: row.table, is_identity: row.is_identity, generation: row.identity_generation }).toEqual(
        {
          table: row.table,
          is_identity: 'YES',
          generation: 'BY DEFAULT',
        },
      );
    }
  });

  it('the generated columns (stored) are variance_pct and the memory dedup hash and search document', async () => {
    const { rows } = await sql.query(
      `SELECT table_schema || '.' || table_name || '.' || column_name AS col, is_generated
         FROM information_schema.columns
        WHERE table_schema IN ('erp', 'agent') AND is_generated = 'ALWAYS' ORDER BY 1`,
    );
    expect(rows).toEqual([
      { col: 'agent.memory_entries.content_hash', is_generated: 'ALWAYS' },
      { col: 'agent.memory_entries.search_document', is_generated: 'ALWAYS' },
      { col: 'erp.execution_runs.variance_pct', is_generated: 'ALWAYS' },
    ]);
  });

  it('no column is json (no equality operator; use jsonb)', async () => {
    const { rows } = await sql.query(
      `SELECT table_schema, table_name, column_name FROM information_schema.columns
        WHERE table_schema IN ('erp', 'agent') AND udt_name IN ('json', '_json')`,
    );
    expect(rows).toEqual([]);
  });

  it('no money or floating-point columns except the real[] embeddings', async () => {
    const { rows } = await sql.query<{ col: string }>(
      `SELECT table_schema || '.' || table_name || '.' || column_name AS col FROM information_schema.columns
        WHERE table_schema IN ('erp', 'agent') AND udt_name IN ('money', 'float4', 'float8', '_float8', '_float4')
        ORDER BY 1`,
    );
    expect(rows.map((r) => r.col)).toEqual(['agent.episodes.embedding', 'agent.memory_entries.embedding']);
  });
});

describe('comments for the generated docs', () => {
  it('every table has a comment', async () => {
    const { rows } = await sql.query(
      `SELECT c.oid::regclass::text AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('erp', 'agent') AND c.relkind = 'r' AND obj_description(c.oid, 'pg_class') IS NULL`,
    );
    expect(rows).toEqual([]);
  });

  it('every column whose name is not self-explanatory has a comment', async () => {
    const { rows } = await sql.query<{ col: string; attname: string }>(
      `SELECT c.oid::regclass::text || '.' || a.attname AS col, a.attname
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('erp', 'agent') AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
          AND col_description(c.oid, a.attnum) IS NULL
        ORDER BY 1`,
    );
    expect(rows.filter((r) => !SELF_EXPLANATORY.has(r.attname)).map((r) => r.col)).toEqual([]);
  });

  it('every status/type column comment lists the allowed values of its CHECK', async () => {
    // For each CHECK of the form col IN (...) / col = ANY (ARRAY[...]), every value appears in the comment.
    const { rows } = await sql.query<{ col: string; def: string; comment: string | null }>(
      `SELECT c.conrelid::regclass::text || '.' || a.attname AS col, pg_get_constraintdef(c.oid) AS def,
              col_description(c.conrelid, a.attnum) AS comment
         FROM pg_constraint c
         JOIN pg_namespace n ON n.oid = c.connamespace
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE n.nspname IN ('erp', 'agent') AND c.contype = 'c' AND cardinality(c.conkey) = 1
          AND pg_get_constraintdef(c.oid) LIKE '%= ANY (ARRAY[%'`,
    );
    expect(rows.length).toBeGreaterThan(40);
    const entityKinds = await sql.query<{ comment: string }>(
      `SELECT col_description('agent.sessions'::regclass, attnum) AS comment FROM pg_attribute
        WHERE attrelid = 'agent.sessions'::regclass AND attname = 'subject_type'`,
    );
    const missing: string[] = [];
    for (const row of rows) {
      const values = [...row.def.matchAll(/'([a-z_]+)'::text/g)].map((m) => m[1]!);
      // Columns sharing the entity-kind set refer to agent.sessions.subject_type's comment.
      const comment = /entity kinds listed on agent\.sessions\.subject_type/.test(row.comment ?? '')
        ? `${row.comment} ${entityKinds.rows[0]!.comment}`
        : (row.comment ?? '');
      for (const value of values) {
        if (!new RegExp(`\\b${value}\\b`).test(comment)) missing.push(`${row.col}: ${value}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
