/**
 * Bad input is refused with an error naming the constraint or column, and leaves the table as it
 * was. Table-driven: one or more cases per CHECK and UNIQUE constraint (the suite fails when a
 * constraint has no case, so a new constraint needs a test), plus every NOT NULL column and every
 * primary key, derived from the catalog. Each case is tried as an INSERT and as an UPDATE.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import {
  ALL_TABLES,
  baseRow,
  create,
  dropDatabase,
  insert,
  keyOf,
  openSession,
  pgError,
  snapshot,
  unique,
  update,
  type Row,
} from './fixtures.ts';

type Values = Row | ((row: Row) => Row);

interface CheckCase {
  table: string;
  constraint: string;
  values: Values;
}

const EARLY = '2024-02-01';
const LATE = '2024-03-01';
const EARLY_TS = '2024-02-01T10:00:00Z';
const LATE_TS = '2024-02-01T09:59:59Z'; // one second before EARLY_TS
const EMBEDDING_WITH_NULL = Array.from({ length: 1536 }, (_, i) => (i === 7 ? null : 0.5));

/** The agent tables migration 016 gave a client_id (the memory and planning tables had one). */
const CLIENT_OWNED_TABLES = [
  'sessions',
  'events',
  'facts',
  'goals',
  'reflections',
  'step_evaluations',
  'artifacts',
  'graph_nodes',
  'graph_edges',
  'blocks',
  'block_actions',
];

/** '[]' and '{}' are passed as JSON text: a JS array would be sent as a Postgres array literal. */
const CHECK_CASES: CheckCase[] = [
  // erp.people
  { table: 'erp.people', constraint: 'people_global_id_check', values: { global_id: '' } },
  { table: 'erp.people', constraint: 'people_global_id_check', values: { global_id: '  \t' } },
  { table: 'erp.people', constraint: 'people_email_check', values: { email: 'jane.example.com' } },
  { table: 'erp.people', constraint: 'people_email_check', values: { email: 'jane doe@example.com' } },
  // erp.organizations
  { table: 'erp.organizations', constraint: 'organizations_global_id_check', values: { global_id: ' ' } },
  { table: 'erp.organizations', constraint: 'organizations_org_type_check', values: { org_type: 'Client' } },
  // erp.ventures
  { table: 'erp.ventures', constraint: 'ventures_global_id_check', values: { global_id: ' ' } },
  { table: 'erp.ventures', constraint: 'ventures_status_check', values: { status: 'In Progress' } },
  // erp.service_blueprints
  {
    table: 'erp.service_blueprints',
    constraint: 'service_blueprints_global_id_check',
    values: { global_id: ' ' },
  },
  {
    table: 'erp.service_blueprints',
    constraint: 'service_blueprints_status_check',
    values: { status: 'Draft' },
  },
  // erp.workflows
  { table: 'erp.workflows', constraint: 'workflows_global_id_check', values: { global_id: ' ' } },
  { table: 'erp.workflows', constraint: 'workflows_steps_check', values: { steps: '{}' } },
  { table: 'erp.workflows', constraint: 'workflows_estimated_hours_check', values: { estimated_hours: -1 } },
  {
    table: 'erp.workflows',
    constraint: 'workflows_automation_status_check',
    values: { automation_status: 'Semi-automated' },
  },
  { table: 'erp.workflows', constraint: 'workflows_status_check', values: { status: 'retired' } },
  // erp.process_templates
  {
    table: 'erp.process_templates',
    constraint: 'process_templates_global_id_check',
    values: { global_id: ' ' },
  },
  {
    table: 'erp.process_templates',
    constraint: 'process_templates_checklist_check',
    values: { checklist: '{}' },
  },
  {
    table: 'erp.process_templates',
    constraint: 'process_templates_template_type_check',
    values: { template_type: 'form' },
  },
  {
    table: 'erp.process_templates',
    constraint: 'process_templates_status_check',
    values: { status: 'Active' },
  },
  // erp.projects
  { table: 'erp.projects', constraint: 'projects_global_id_check', values: { global_id: ' ' } },
  { table: 'erp.projects', constraint: 'projects_status_check', values: { status: 'In Progress' } },
  {
    table: 'erp.projects',
    constraint: 'projects_end_date_check',
    values: { start_date: LATE, end_date: EARLY },
  },
  // erp.engagements
  { table: 'erp.engagements', constraint: 'engagements_global_id_check', values: { global_id: ' ' } },
  { table: 'erp.engagements', constraint: 'engagements_status_check', values: { status: 'won' } },
  {
    table: 'erp.engagements',
    constraint: 'engagements_end_date_check',
    values: { start_date: LATE, end_date: EARLY },
  },
  {
    table: 'erp.engagements',
    constraint: 'engagements_value_estimate_check',
    values: { value_estimate: -0.01 },
  },
  // erp.sprints
  { table: 'erp.sprints', constraint: 'sprints_global_id_check', values: { global_id: ' ' } },
  {
    table: 'erp.sprints',
    constraint: 'sprints_end_date_check',
    values: { start_date: LATE, end_date: EARLY },
  },
  { table: 'erp.sprints', constraint: 'sprints_capacity_hours_check', values: { capacity_hours: -8 } },
  { table: 'erp.sprints', constraint: 'sprints_status_check', values: { status: 'done' } },
  // erp.execution_runs
  { table: 'erp.execution_runs', constraint: 'execution_runs_global_id_check', values: { global_id: ' ' } },
  {
    table: 'erp.execution_runs',
    constraint: 'execution_runs_run_identifier_check',
    values: { run_identifier: '' },
  },
  {
    table: 'erp.execution_runs',
    constraint: 'execution_runs_status_check',
    values: { status: 'in_progress' },
  },
  {
    table: 'erp.execution_runs',
    constraint: 'execution_runs_ended_at_check',
    values: { started_at: EARLY_TS, ended_at: LATE_TS },
  },
  {
    table: 'erp.execution_runs',
    constraint: 'execution_runs_estimated_hours_check',
    values: { estimated_hours: -1 },
  },
  {
    table: 'erp.execution_runs',
    constraint: 'execution_runs_actual_hours_check',
    values: { actual_hours: -0.5 },
  },
  { table: 'erp.execution_runs', constraint: 'execution_runs_metadata_check', values: { metadata: '[]' } },
  // erp.tasks
  { table: 'erp.tasks', constraint: 'tasks_global_id_check', values: { global_id: ' ' } },
  { table: 'erp.tasks', constraint: 'tasks_status_check', values: { status: 'in_progress' } },
  { table: 'erp.tasks', constraint: 'tasks_priority_check', values: { priority: 'High' } },
  { table: 'erp.tasks', constraint: 'tasks_estimated_hours_check', values: { estimated_hours: -1 } },
  { table: 'erp.tasks', constraint: 'tasks_actual_hours_check', values: { actual_hours: -1 } },
  {
    table: 'erp.tasks',
    constraint: 'tasks_scheduled_end_date_check',
    values: { scheduled_start_date: LATE, scheduled_end_date: EARLY },
  },
  // erp.okrs
  { table: 'erp.okrs', constraint: 'okrs_global_id_check', values: { global_id: ' ' } },
  { table: 'erp.okrs', constraint: 'okrs_key_results_check', values: { key_results: '{}' } },
  {
    table: 'erp.okrs',
    constraint: 'okrs_time_horizon_end_check',
    values: { time_horizon_start: LATE, time_horizon_end: EARLY },
  },
  { table: 'erp.okrs', constraint: 'okrs_status_check', values: { status: 'on_track' } },
  // erp.offers
  { table: 'erp.offers', constraint: 'offers_global_id_check', values: { global_id: ' ' } },
  { table: 'erp.offers', constraint: 'offers_pricing_model_check', values: { pricing_model: 'free' } },
  { table: 'erp.offers', constraint: 'offers_status_check', values: { status: 'deprecated' } },
  { table: 'erp.offers', constraint: 'offers_list_price_check', values: { list_price: -100 } },
  { table: 'erp.offers', constraint: 'offers_currency_check', values: { currency: 'usd' } },
  { table: 'erp.offers', constraint: 'offers_currency_check', values: { currency: 'EURO' } },
  // erp.deliverables
  { table: 'erp.deliverables', constraint: 'deliverables_global_id_check', values: { global_id: ' ' } },
  { table: 'erp.deliverables', constraint: 'deliverables_status_check', values: { status: 'done' } },

  // agent.context_recipes, profiles, tools
  {
    table: 'agent.context_recipes',
    constraint: 'context_recipes_retrieval_spec_check',
    values: { retrieval_spec: '[]' },
  },
  { table: 'agent.profiles', constraint: 'profiles_global_id_check', values: { global_id: ' ' } },
  { table: 'agent.profiles', constraint: 'profiles_harness_config_check', values: { harness_config: '[]' } },
  { table: 'agent.tools', constraint: 'tools_global_id_check', values: { global_id: ' ' } },
  {
    table: 'agent.tools',
    constraint: 'tools_schema_definition_check',
    values: { schema_definition: '"string"' },
  },
  // agent.sessions
  { table: 'agent.sessions', constraint: 'sessions_global_id_check', values: { global_id: ' ' } },
  { table: 'agent.sessions', constraint: 'sessions_session_type_check', values: { session_type: 'call' } },
  {
    table: 'agent.sessions',
    constraint: 'sessions_subject_type_check',
    values: { subject_type: 'projects' },
  },
  { table: 'agent.sessions', constraint: 'sessions_status_check', values: { status: 'open' } },
  {
    table: 'agent.sessions',
    constraint: 'sessions_ended_at_check',
    values: { started_at: EARLY_TS, ended_at: LATE_TS },
  },
  {
    table: 'agent.sessions',
    constraint: 'sessions_applied_harness_config_check',
    values: { applied_harness_config: '[]' },
  },
  { table: 'agent.sessions', constraint: 'sessions_metadata_check', values: { metadata: 'null' } },
  // agent.events
  { table: 'agent.events', constraint: 'events_event_type_check', values: { event_type: 'Message' } },
  { table: 'agent.events', constraint: 'events_event_source_check', values: { event_source: 'llm' } },
  { table: 'agent.events', constraint: 'events_subject_type_check', values: { subject_type: 'Project' } },
  { table: 'agent.events', constraint: 'events_payload_check', values: { payload: '[]' } },
  { table: 'agent.events', constraint: 'events_memory_scope_check', values: { memory_scope: 'forever' } },
  { table: 'agent.events', constraint: 'events_salience_score_check', values: { salience_score: 1.01 } },
  { table: 'agent.events', constraint: 'events_salience_score_check', values: { salience_score: -0.01 } },
  // agent.facts
  { table: 'agent.facts', constraint: 'facts_global_id_check', values: { global_id: ' ' } },
  { table: 'agent.facts', constraint: 'facts_subject_type_check', values: { subject_type: 'thing' } },
  { table: 'agent.facts', constraint: 'facts_fact_type_check', values: { fact_type: 'rumour' } },
  { table: 'agent.facts', constraint: 'facts_salience_score_check', values: { salience_score: 2 } },
  {
    table: 'agent.facts',
    constraint: 'facts_valid_to_check',
    values: { valid_from: EARLY_TS, valid_to: LATE_TS },
  },
  { table: 'agent.facts', constraint: 'facts_metadata_check', values: { metadata: '[]' } },
  // agent.goals
  { table: 'agent.goals', constraint: 'goals_global_id_check', values: { global_id: ' ' } },
  { table: 'agent.goals', constraint: 'goals_subject_type_check', values: { subject_type: 'company' } },
  { table: 'agent.goals', constraint: 'goals_success_criteria_check', values: { success_criteria: '{}' } },
  { table: 'agent.goals', constraint: 'goals_status_check', values: { status: 'done' } },
  { table: 'agent.goals', constraint: 'goals_priority_check', values: { priority: 'p1' } },
  {
    table: 'agent.goals',
    constraint: 'goals_time_horizon_end_check',
    values: { time_horizon_start: LATE, time_horizon_end: EARLY },
  },
  {
    table: 'agent.goals',
    constraint: 'goals_parent_goal_id_check',
    values: { id: 9_000_001, parent_goal_id: 9_000_001 },
  },
  // agent.reflections
  { table: 'agent.reflections', constraint: 'reflections_mode_check', values: { mode: 'yearly' } },
  { table: 'agent.reflections', constraint: 'reflections_scope_check', values: { scope: 'world' } },
  {
    table: 'agent.reflections',
    constraint: 'reflections_focal_entity_type_check',
    values: { focal_entity_type: 'people' },
  },
  { table: 'agent.reflections', constraint: 'reflections_metrics_check', values: { metrics: '[]' } },
  // agent.step_evaluations
  {
    table: 'agent.step_evaluations',
    constraint: 'step_evaluations_step_index_check',
    values: { step_index: -1 },
  },
  {
    table: 'agent.step_evaluations',
    constraint: 'step_evaluations_validator_type_check',
    values: { validator_type: 'gpt' },
  },
  { table: 'agent.step_evaluations', constraint: 'step_evaluations_status_check', values: { status: 'ok' } },
  { table: 'agent.step_evaluations', constraint: 'step_evaluations_score_check', values: { score: 1.5 } },
  { table: 'agent.step_evaluations', constraint: 'step_evaluations_score_check', values: { score: -0.1 } },
  // agent.artifacts
  { table: 'agent.artifacts', constraint: 'artifacts_global_id_check', values: { global_id: ' ' } },
  { table: 'agent.artifacts', constraint: 'artifacts_artifact_type_check', values: { artifact_type: 'pdf' } },
  {
    table: 'agent.artifacts',
    constraint: 'artifacts_source_system_check',
    values: { source_system: 'dropbox' },
  },
  { table: 'agent.artifacts', constraint: 'artifacts_metadata_check', values: { metadata: '[]' } },
  // agent.graph_nodes, graph_edges
  { table: 'agent.graph_nodes', constraint: 'graph_nodes_node_type_check', values: { node_type: 'Person' } },
  { table: 'agent.graph_nodes', constraint: 'graph_nodes_node_id_check', values: { node_id: ' ' } },
  { table: 'agent.graph_nodes', constraint: 'graph_nodes_properties_check', values: { properties: '[]' } },
  {
    table: 'agent.graph_edges',
    constraint: 'graph_edges_to_node_id_check',
    values: (row) => ({ to_node_id: row.from_node_id }),
  },
  { table: 'agent.graph_edges', constraint: 'graph_edges_edge_type_check', values: { edge_type: 'knows' } },
  { table: 'agent.graph_edges', constraint: 'graph_edges_properties_check', values: { properties: '[]' } },
  // agent.blocks, block_actions
  { table: 'agent.blocks', constraint: 'blocks_global_id_check', values: { global_id: ' ' } },
  { table: 'agent.blocks', constraint: 'blocks_block_type_check', values: { block_type: 'card' } },
  { table: 'agent.blocks', constraint: 'blocks_source_table_check', values: { source_table: 'tasks' } },
  {
    table: 'agent.blocks',
    constraint: 'blocks_source_table_check',
    values: { source_table: 'erp.Tasks; DROP' },
  },
  { table: 'agent.blocks', constraint: 'blocks_metadata_check', values: { metadata: '[]' } },
  {
    table: 'agent.block_actions',
    constraint: 'block_actions_action_type_check',
    values: { action_type: 'click' },
  },
  {
    table: 'agent.block_actions',
    constraint: 'block_actions_tool_name_check',
    values: { action_type: 'run_tool', tool_name: null },
  },
  {
    table: 'agent.block_actions',
    constraint: 'block_actions_tool_params_template_check',
    values: { tool_params_template: '[]' },
  },
  { table: 'agent.block_actions', constraint: 'block_actions_metadata_check', values: { metadata: '[]' } },
  // agent memory
  {
    table: 'agent.client_profiles',
    constraint: 'client_profiles_client_id_check',
    values: { client_id: ' ' },
  },
  {
    table: 'agent.client_profiles',
    constraint: 'client_profiles_preferences_check',
    values: { preferences: '[]' },
  },
  {
    table: 'agent.memory_entries',
    constraint: 'memory_entries_memory_type_check',
    values: { memory_type: 'short_term' },
  },
  {
    table: 'agent.memory_entries',
    constraint: 'memory_entries_embedding_check',
    values: { embedding: [0.1, 0.2, 0.3] },
  },
  {
    table: 'agent.memory_entries',
    constraint: 'memory_entries_embedding_check',
    values: { embedding: [[0.1], [0.2]] },
  },
  {
    table: 'agent.memory_entries',
    constraint: 'memory_entries_embedding_check',
    values: { embedding: EMBEDDING_WITH_NULL },
  },
  {
    table: 'agent.memory_entries',
    constraint: 'memory_entries_ttl_minutes_check',
    values: { ttl_minutes: 0 },
  },
  { table: 'agent.memory_entries', constraint: 'memory_entries_metadata_check', values: { metadata: '[]' } },
  {
    table: 'agent.memory_entries',
    constraint: 'memory_entries_language_check',
    values: { language: 'German' },
  },
  {
    table: 'agent.memory_entries',
    constraint: 'memory_entries_language_check',
    values: { language: 'pt-BR' },
  },
  {
    table: 'agent.memory_entries',
    constraint: 'memory_entries_repeat_count_check',
    values: { repeat_count: 0 },
  },
  {
    table: 'agent.memory_entries',
    constraint: 'memory_entries_last_seen_at_check',
    values: { created_at: EARLY_TS, last_seen_at: LATE_TS },
  },
  {
    table: 'agent.memory_facts',
    constraint: 'memory_facts_confidence_score_check',
    values: { confidence_score: 1.1 },
  },
  {
    table: 'agent.memory_facts',
    constraint: 'memory_facts_confidence_score_check',
    values: { confidence_score: -0.1 },
  },
  { table: 'agent.memory_facts', constraint: 'memory_facts_metadata_check', values: { metadata: '[]' } },
  {
    table: 'agent.working_state',
    constraint: 'working_state_state_value_check',
    values: { state_value: '[]' },
  },
  {
    table: 'agent.episodes',
    constraint: 'episodes_embedding_check',
    values: { embedding: Array.from({ length: 1535 }, () => 0) },
  },
  { table: 'agent.episodes', constraint: 'episodes_metadata_check', values: { metadata: '[]' } },
  {
    table: 'agent.webhook_executions',
    constraint: 'webhook_executions_webhook_url_check',
    values: { webhook_url: 'ftp://example.com' },
  },
  {
    table: 'agent.webhook_executions',
    constraint: 'webhook_executions_payload_check',
    values: { payload: '[]' },
  },
  {
    table: 'agent.webhook_executions',
    constraint: 'webhook_executions_response_check',
    values: { response: '"ok"' },
  },
  {
    table: 'agent.webhook_executions',
    constraint: 'webhook_executions_status_check',
    values: { status: 'success' },
  },
  // agent planning
  { table: 'agent.plans', constraint: 'plans_sop_check', values: { sop: '{}' } },
  { table: 'agent.plans', constraint: 'plans_status_check', values: { status: 'In Progress' } },
  { table: 'agent.plans', constraint: 'plans_metadata_check', values: { metadata: '[]' } },
  {
    table: 'agent.scheduler_runs',
    constraint: 'scheduler_runs_schedule_blocks_check',
    values: { schedule_blocks: '{}' },
  },
  { table: 'agent.scheduler_runs', constraint: 'scheduler_runs_status_check', values: { status: 'queued' } },
  {
    table: 'agent.scheduler_runs',
    constraint: 'scheduler_runs_calendar_events_check',
    values: { calendar_events: '{}' },
  },
  { table: 'agent.scheduler_runs', constraint: 'scheduler_runs_metadata_check', values: { metadata: '[]' } },
  {
    table: 'agent.prompt_templates',
    constraint: 'prompt_templates_template_type_check',
    values: { template_type: 'System' },
  },
  { table: 'agent.prompt_templates', constraint: 'prompt_templates_version_check', values: { version: 0 } },
  {
    table: 'agent.prompt_templates',
    constraint: 'prompt_templates_variables_check',
    values: { variables: '{}' },
  },
  {
    table: 'agent.prompt_templates',
    constraint: 'prompt_templates_metadata_check',
    values: { metadata: '[]' },
  },
  // The tables that belong to a client since 016.
  ...CLIENT_OWNED_TABLES.map((name) => ({
    table: `agent.${name}`,
    constraint: `${name}_client_id_check`,
    values: { client_id: ' ' },
  })),
];

interface UniqueCase {
  table: string;
  /** Values the first row needs so the constrained columns are not NULL. */
  seed?: () => Row;
  /** Values that collide with `first`; default: copy the constrained columns from it. */
  duplicate?: (first: Row) => Row;
  /** A key that contains the primary key is refused by the primary key, checked first. */
  refusedBy?: string;
}

const gid = (prefix: string) => () => ({ global_id: unique(prefix) });

/** UNIQUE constraints and unique indexes (primary keys are derived from the catalog). */
const UNIQUE_CASES: Record<string, UniqueCase> = {
  people_global_id_key: { table: 'erp.people', seed: gid('person') },
  people_handle_key: { table: 'erp.people', seed: () => ({ handle: unique('@jane') }) },
  people_email_key: {
    table: 'erp.people',
    seed: () => ({ email: 'Jane.Doe@Example.com' }),
    duplicate: () => ({ email: 'jane.doe@EXAMPLE.COM' }), // case-insensitive
  },
  organizations_global_id_key: { table: 'erp.organizations', seed: gid('org') },
  projects_global_id_key: { table: 'erp.projects', seed: gid('project') },
  engagements_global_id_key: { table: 'erp.engagements', seed: gid('engagement') },
  tasks_global_id_key: { table: 'erp.tasks', seed: gid('task') },
  okrs_global_id_key: { table: 'erp.okrs', seed: gid('okr') },
  service_blueprints_global_id_key: { table: 'erp.service_blueprints', seed: gid('blueprint') },
  workflows_global_id_key: { table: 'erp.workflows', seed: gid('workflow') },
  process_templates_global_id_key: { table: 'erp.process_templates', seed: gid('template') },
  execution_runs_global_id_key: { table: 'erp.execution_runs', seed: gid('run') },
  execution_runs_run_identifier_key: {
    table: 'erp.execution_runs',
    seed: () => ({ run_identifier: unique('RUN') }),
  },
  ventures_global_id_key: { table: 'erp.ventures', seed: gid('venture') },
  sprints_global_id_key: { table: 'erp.sprints', seed: gid('sprint') },
  offers_global_id_key: { table: 'erp.offers', seed: gid('offer') },
  deliverables_global_id_key: { table: 'erp.deliverables', seed: gid('deliverable') },

  // Text keys are unique per client (020): the same value under another client is no duplicate.
  sessions_client_id_global_id_key: { table: 'agent.sessions', seed: gid('session') },
  facts_client_id_global_id_key: { table: 'agent.facts', seed: gid('fact') },
  goals_client_id_global_id_key: { table: 'agent.goals', seed: gid('goal') },
  artifacts_client_id_global_id_key: { table: 'agent.artifacts', seed: gid('artifact') },
  artifacts_client_id_source_system_external_id_key: {
    table: 'agent.artifacts',
    seed: () => ({ source_system: 'coda', external_id: unique('doc') }),
  },
  profiles_global_id_key: { table: 'agent.profiles', seed: gid('profile') },
  profiles_name_key: { table: 'agent.profiles' },
  tools_global_id_key: { table: 'agent.tools', seed: gid('tool') },
  tools_name_key: { table: 'agent.tools' },
  context_recipes_name_key: { table: 'agent.context_recipes' },
  blocks_client_id_global_id_key: { table: 'agent.blocks', seed: gid('block') },
  block_actions_client_id_block_id_is_default_key: {
    table: 'agent.block_actions',
    seed: () => ({ is_default: true }),
  },
  graph_nodes_client_id_node_id_key: { table: 'agent.graph_nodes' },
  graph_edges_client_id_from_node_id_to_node_id_edge_type_key: { table: 'agent.graph_edges' },
  client_profiles_client_id_key: { table: 'agent.client_profiles' },
  // The same content again, with other spacing and case, is the same memory.
  memory_entries_client_id_content_hash_key: {
    table: 'agent.memory_entries',
    duplicate: (first) => ({
      client_id: first.client_id,
      content: `  ${String(first.content).toUpperCase()} `,
    }),
  },
  working_state_client_id_state_key_key: { table: 'agent.working_state' },
  prompt_templates_template_name_key: { table: 'agent.prompt_templates' },
};

let db: TestDatabase;
/** The file's one connection (see openSession). */
let sql: pg.PoolClient;

interface CatalogUnique {
  name: string;
  table: string;
  kind: 'primary key' | 'unique constraint' | 'unique index';
  columns: string[];
}
let catalogChecks: { name: string; table: string }[];
let catalogUniques: CatalogUnique[];
let notNullColumns: { table: string; column: string }[];

beforeAll(async () => {
  db = await createTestDatabase();
  sql = await openSession(db);
  catalogChecks = (
    await sql.query<{ name: string; table: string }>(
      `SELECT c.conname AS name, n.nspname || '.' || cl.relname AS table
         FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
        WHERE n.nspname IN ('erp', 'agent') AND c.contype = 'c'
        ORDER BY 1`,
    )
  ).rows;
  catalogUniques = (
    await sql.query<CatalogUnique>(
      `SELECT i.relname AS name, n.nspname || '.' || t.relname AS table,
              CASE WHEN c.contype = 'p' THEN 'primary key' WHEN c.contype = 'u' THEN 'unique constraint'
                   ELSE 'unique index' END AS kind,
              array(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord) AS columns
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class t ON t.oid = x.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.contype IN ('p', 'u')
        WHERE n.nspname IN ('erp', 'agent') AND x.indisunique
        ORDER BY 1`,
    )
  ).rows;
  notNullColumns = (
    await sql.query<{ table: string; column: string }>(
      `SELECT table_schema || '.' || table_name AS table, column_name AS column
         FROM information_schema.columns
        WHERE table_schema IN ('erp', 'agent') AND is_nullable = 'NO'
        ORDER BY table_schema, table_name, ordinal_position`,
    )
  ).rows;
});

afterAll(async () => {
  await dropDatabase(db, sql);
});

/** Runs `statement`, expects it to fail with `code` naming `constraint` or `column`, and the table unchanged. */
async function expectRefused(
  table: string,
  statement: () => Promise<unknown>,
  expected: { code: string; constraint?: string; column?: string },
): Promise<void> {
  const before = await snapshot(sql, table);
  const error = await pgError(statement());
  expect(error.code, error.message).toBe(expected.code);
  if (expected.constraint) {
    expect(error.constraint).toBe(expected.constraint);
    expect(error.message).toContain(expected.constraint);
  }
  if (expected.column) {
    expect(error.column).toBe(expected.column);
    expect(error.message).toContain(expected.column);
  }
  expect(`${error.schema}.${error.table}`).toBe(table);
  expect(await snapshot(sql, table)).toEqual(before);
}

const resolve = (values: Values, row: Row): Row => (typeof values === 'function' ? values(row) : values);

describe('coverage', () => {
  it('every CHECK constraint in erp and agent has at least one bad-input case, and every case names a real one', () => {
    const cases = new Set(CHECK_CASES.map((c) => `${c.table}:${c.constraint}`));
    const catalog = new Set(catalogChecks.map((c) => `${c.table}:${c.name}`));
    expect(
      [...catalog].filter((c) => !cases.has(c)),
      'CHECK constraints without a case',
    ).toEqual([]);
    expect(
      [...cases].filter((c) => !catalog.has(c)),
      'cases for unknown constraints',
    ).toEqual([]);
  });

  it('every UNIQUE constraint and unique index has a case, and every case names a real one', () => {
    const nonPrimary = catalogUniques.filter((u) => u.kind !== 'primary key');
    const cases = Object.entries(UNIQUE_CASES).map(([name, c]) => `${c.table}:${name}`);
    const catalog = nonPrimary.map((u) => `${u.table}:${u.name}`);
    expect(
      catalog.filter((c) => !cases.includes(c)),
      'unique constraints/indexes without a case',
    ).toEqual([]);
    expect(
      cases.filter((c) => !catalog.includes(c)),
      'cases for unknown constraints',
    ).toEqual([]);
  });

  it('every table has a primary key', () => {
    const withPk = new Set(catalogUniques.filter((u) => u.kind === 'primary key').map((u) => u.table));
    expect([...withPk].sort()).toEqual([...ALL_TABLES].sort());
  });
});

describe('CHECK constraints refuse bad input', () => {
  it.each(CHECK_CASES.map((c, i) => [`${c.constraint} #${i}`, c] as const))('%s', async (_label, c) => {
    // INSERT of a row that is valid except for the case's values
    const base = await baseRow(sql, c.table);
    await expectRefused(c.table, () => insert(sql, c.table, { ...base, ...resolve(c.values, base) }), {
      code: '23514',
      constraint: c.constraint,
    });
    // UPDATE of a valid row to the case's values
    const row = await create(sql, c.table);
    await expectRefused(c.table, () => update(sql, c.table, keyOf(c.table, row), resolve(c.values, row)), {
      code: '23514',
      constraint: c.constraint,
    });
  });
});

describe('UNIQUE constraints, unique indexes and primary keys refuse duplicates', () => {
  it.each(Object.entries(UNIQUE_CASES))('%s', async (name, c) => {
    await expectDuplicateRefused(name, c);
  });

  it('every primary key refuses a duplicate', async () => {
    const primaryKeys = catalogUniques.filter((u) => u.kind === 'primary key');
    expect(primaryKeys).toHaveLength(ALL_TABLES.length);
    for (const pk of primaryKeys) {
      // A key inside the primary key (client_profiles' client_id in (client_id, id)) is the one
      // Postgres checks first.
      const inner = catalogUniques.find(
        (u) =>
          u.table === pk.table &&
          u !== pk &&
          u.columns.length > 0 &&
          u.columns.every((column) => pk.columns.includes(column)),
      );
      await expectDuplicateRefused(pk.name, { table: pk.table, refusedBy: inner?.name });
    }
  });
});

async function expectDuplicateRefused(name: string, c: UniqueCase): Promise<void> {
  const index = catalogUniques.find((u) => u.name === name && u.table === c.table);
  if (!index) throw new Error(`no unique index ${name} on ${c.table}`);
  const seed = c.seed?.() ?? {};
  const first = await create(sql, c.table, seed);
  const duplicate =
    c.duplicate?.(first) ?? Object.fromEntries(index.columns.map((column) => [column, first[column]]));
  expect(Object.keys(duplicate).length, `${name}: nothing to duplicate`).toBeGreaterThan(0);
  for (const [column, value] of Object.entries(duplicate)) {
    if (!c.duplicate) expect(value, `${name}: ${column} of the first row is NULL; add a seed`).not.toBeNull();
  }
  // INSERT of a second row with the same key
  const base = await baseRow(sql, c.table);
  await expectRefused(c.table, () => insert(sql, c.table, { ...base, ...seed, ...duplicate }), {
    code: '23505',
    constraint: c.refusedBy ?? name,
  });
  // UPDATE of another row to the same key
  const second = await create(sql, c.table);
  await expectRefused(
    c.table,
    () => update(sql, c.table, keyOf(c.table, second), { ...seed, ...duplicate }),
    {
      code: '23505',
      constraint: c.refusedBy ?? name,
    },
  );
}

describe('NOT NULL columns refuse NULL', () => {
  it('the catalog lists the NOT NULL columns', () => {
    expect(notNullColumns.length).toBeGreaterThan(200);
  });

  it.each(ALL_TABLES)(
    '%s: every NOT NULL column refuses an explicit NULL on INSERT and UPDATE',
    async (table) => {
      const columns = notNullColumns.filter((c) => c.table === table).map((c) => c.column);
      expect(columns.length).toBeGreaterThan(0);
      for (const column of columns) {
        const base = await baseRow(sql, table);
        await expectRefused(table, () => insert(sql, table, { ...base, [column]: null }), {
          code: '23502',
          column,
        });
        // updated_at is not tested on UPDATE: the trigger replaces any written value with now().
        if (column === 'updated_at') continue;
        const row = await create(sql, table);
        await expectRefused(table, () => update(sql, table, keyOf(table, row), { [column]: null }), {
          code: '23502',
          column,
        });
      }
    },
  );
});
