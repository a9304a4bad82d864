-- 006_reconcile_verdict.sql
--
-- What reconciliation needs to give one verdict the owner can sign off:
--   * pipeline.runs takes every mode and outcome the pipeline records (undo runs, abandoned and
--     interrupted runs, and a cutover that committed but whose reports failed);
--   * pipeline.accepted_differences keeps the differences a cutover accepted when it committed
--     (rejected rows within --max-rejects, links left empty, rows Postgres has and Coda has not),
--     so a later `erp reconcile` lists them as accepted, with the run that accepted them;
--   * every CHECK of erp explains its rule in one sentence (COMMENT ON CONSTRAINT): reports show
--     that sentence to the owner instead of the expression.
-- No BEGIN/COMMIT: the runner wraps the file in a transaction; it also runs with plain psql.

SET lock_timeout = '5s';

ALTER TABLE pipeline.runs DROP CONSTRAINT runs_mode_check;
ALTER TABLE pipeline.runs
  ADD CONSTRAINT runs_mode_check CHECK (mode IN ('plan', 'cutover', 'reconcile', 'undo')) NOT VALID;
ALTER TABLE pipeline.runs VALIDATE CONSTRAINT runs_mode_check;
ALTER TABLE pipeline.runs DROP CONSTRAINT runs_outcome_check;
ALTER TABLE pipeline.runs
  ADD CONSTRAINT runs_outcome_check CHECK (outcome IN ('running', 'planned', 'committed', 'rolled_back', 'failed',
    'reconciled', 'differences', 'abandoned', 'interrupted', 'undone', 'committed_report_failed')) NOT VALID;
ALTER TABLE pipeline.runs VALIDATE CONSTRAINT runs_outcome_check;
COMMENT ON CONSTRAINT runs_mode_check ON pipeline.runs IS 'A run is a plan, a cutover, a reconcile or an undo.';
COMMENT ON CONSTRAINT runs_outcome_check ON pipeline.runs IS
  'A run is running, or ended as planned, committed, rolled back, failed, reconciled, with differences, abandoned, interrupted, undone, or committed with its reports failed.';
COMMENT ON COLUMN pipeline.runs.mode IS
  'plan (dry run, always rolled back), cutover (load, committed only when clean), reconcile (read-only comparison) or undo.';
COMMENT ON COLUMN pipeline.runs.outcome IS
  'running, then: planned (plan finished), committed / rolled_back (cutover), committed_report_failed (committed, then writing its reports failed), reconciled / differences (reconcile), undone (undo), failed (an error stopped the run), interrupted (stopped by a signal, rolled back) or abandoned (its process died; marked by the next run).';

CREATE TABLE pipeline.accepted_differences (
  id             bigint GENERATED ALWAYS AS IDENTITY,
  run_id         bigint NOT NULL,
  coda_doc_id    text NOT NULL,
  target_table   text NOT NULL,
  row_key        text NOT NULL,
  kind           text NOT NULL,
  row_name       text NOT NULL DEFAULT '',
  browser_link   text,
  reason         text NOT NULL,
  CONSTRAINT accepted_differences_pkey PRIMARY KEY (id),
  CONSTRAINT accepted_differences_key UNIQUE (run_id, target_table, row_key, kind),
  CONSTRAINT accepted_differences_kind_check CHECK (kind IN ('rejected', 'link_left_empty', 'extra')),
  CONSTRAINT accepted_differences_run_id_fkey FOREIGN KEY (run_id) REFERENCES pipeline.runs (id) ON DELETE CASCADE
);
CREATE INDEX accepted_differences_lookup_idx ON pipeline.accepted_differences (coda_doc_id, target_table, row_key);
COMMENT ON TABLE pipeline.accepted_differences IS
  'Differences between Coda and Postgres that a committed cutover accepted: a later reconcile lists them as accepted (with this run) instead of as new differences.';
COMMENT ON COLUMN pipeline.accepted_differences.row_key IS
  'The Coda row id, or id: followed by the erp id for a row no Coda row produced.';
COMMENT ON COLUMN pipeline.accepted_differences.kind IS
  'rejected (not loaded), link_left_empty (loaded without a link) or extra (in Postgres, not in Coda).';
COMMENT ON COLUMN pipeline.accepted_differences.reason IS 'Why the row differs, in words for the business owner.';
COMMENT ON CONSTRAINT accepted_differences_kind_check ON pipeline.accepted_differences IS
  'An accepted difference is a rejected row, a link left empty, or a row only Postgres has.';
COMMENT ON CONSTRAINT accepted_differences_run_id_fkey ON pipeline.accepted_differences IS
  'ON DELETE CASCADE: an acceptance means nothing without the run that made it.';

COMMENT ON CONSTRAINT people_global_id_check ON erp.people IS 'The global id may not be blank.';
COMMENT ON CONSTRAINT people_email_check ON erp.people IS 'An email address needs one @, a dot in its domain, and no spaces.';
COMMENT ON CONSTRAINT organizations_global_id_check ON erp.organizations IS 'The global id may not be blank.';
COMMENT ON CONSTRAINT organizations_org_type_check ON erp.organizations IS
  'An organization is a client, prospect, partner, vendor, internal or other.';
COMMENT ON CONSTRAINT ventures_global_id_check ON erp.ventures IS 'The global id may not be blank.';
COMMENT ON CONSTRAINT ventures_status_check ON erp.ventures IS 'A venture is an idea, active, on hold or closed.';
COMMENT ON CONSTRAINT service_blueprints_global_id_check ON erp.service_blueprints IS 'The global id may not be blank.';
COMMENT ON CONSTRAINT service_blueprints_status_check ON erp.service_blueprints IS
  'A service blueprint is a draft, active or deprecated.';
COMMENT ON CONSTRAINT workflows_global_id_check ON erp.workflows IS 'The global id may not be blank.';
COMMENT ON CONSTRAINT workflows_steps_check ON erp.workflows IS 'The steps of a workflow must be a list.';
COMMENT ON CONSTRAINT workflows_estimated_hours_check ON erp.workflows IS 'Estimated hours cannot be negative.';
COMMENT ON CONSTRAINT workflows_automation_status_check ON erp.workflows IS
  'A workflow is manual, semi-automated or automated.';
COMMENT ON CONSTRAINT workflows_status_check ON erp.workflows IS 'A workflow is a draft, active or deprecated.';
COMMENT ON CONSTRAINT process_templates_global_id_check ON erp.process_templates IS 'The global id may not be blank.';
COMMENT ON CONSTRAINT process_templates_checklist_check ON erp.process_templates IS 'The checklist must be a list.';
COMMENT ON CONSTRAINT process_templates_template_type_check ON erp.process_templates IS
  'A process template is a checklist, SOP, runbook, playbook or other.';
COMMENT ON CONSTRAINT process_templates_status_check ON erp.process_templates IS
  'A process template is a draft, active or deprecated.';
COMMENT ON CONSTRAINT projects_global_id_check ON erp.projects IS 'The global id may not be blank.';
COMMENT ON CONSTRAINT projects_status_check ON erp.projects IS
  'A project is planned, active, on hold, completed or cancelled.';
COMMENT ON CONSTRAINT projects_end_date_check ON erp.projects IS 'A project cannot end before it starts.';
COMMENT ON CONSTRAINT engagements_global_id_check ON erp.engagements IS 'The global id may not be blank.';
COMMENT ON CONSTRAINT engagements_status_check ON erp.engagements IS
  'An engagement is a prospect, proposed, active, on hold, completed or cancelled.';
COMMENT ON CONSTRAINT engagements_end_date_check ON erp.engagements IS 'An engagement cannot end before it starts.';
COMMENT ON CONSTRAINT engagements_value_estimate_check ON erp.engagements IS 'An engagement''s estimated value cannot be negative.';
COMMENT ON CONSTRAINT sprints_global_id_check ON erp.sprints IS 'The global id may not be blank.';
COMMENT ON CONSTRAINT sprints_end_date_check ON erp.sprints IS 'A sprint cannot end before it starts.';
COMMENT ON CONSTRAINT sprints_capacity_hours_check ON erp.sprints IS 'A sprint''s capacity in hours cannot be negative.';
COMMENT ON CONSTRAINT sprints_status_check ON erp.sprints IS 'A sprint is planned, active, completed or cancelled.';
COMMENT ON CONSTRAINT execution_runs_global_id_check ON erp.execution_runs IS 'The global id may not be blank.';
COMMENT ON CONSTRAINT execution_runs_run_identifier_check ON erp.execution_runs IS 'The run identifier may not be blank.';
COMMENT ON CONSTRAINT execution_runs_status_check ON erp.execution_runs IS
  'An execution run is planned, running, completed, failed or cancelled.';
COMMENT ON CONSTRAINT execution_runs_ended_at_check ON erp.execution_runs IS 'An execution run cannot end before it starts.';
COMMENT ON CONSTRAINT execution_runs_estimated_hours_check ON erp.execution_runs IS 'Estimated hours cannot be negative.';
COMMENT ON CONSTRAINT execution_runs_actual_hours_check ON erp.execution_runs IS 'Actual hours cannot be negative.';
COMMENT ON CONSTRAINT execution_runs_metadata_check ON erp.execution_runs IS 'The metadata must be a set of named values.';
COMMENT ON CONSTRAINT tasks_global_id_check ON erp.tasks IS 'The global id may not be blank.';
COMMENT ON CONSTRAINT tasks_status_check ON erp.tasks IS 'A task is to do, active, blocked, done or cancelled.';
COMMENT ON CONSTRAINT tasks_priority_check ON erp.tasks IS 'A task''s priority is low, medium, high or urgent.';
COMMENT ON CONSTRAINT tasks_estimated_hours_check ON erp.tasks IS 'Estimated hours cannot be negative.';
COMMENT ON CONSTRAINT tasks_actual_hours_check ON erp.tasks IS 'Actual hours cannot be negative.';
COMMENT ON CONSTRAINT tasks_scheduled_end_date_check ON erp.tasks IS 'A task cannot be scheduled to end before it starts.';
COMMENT ON CONSTRAINT okrs_global_id_check ON erp.okrs IS 'The global id may not be blank.';
COMMENT ON CONSTRAINT okrs_key_results_check ON erp.okrs IS 'The key results must be a list.';
COMMENT ON CONSTRAINT okrs_time_horizon_end_check ON erp.okrs IS 'An OKR''s time horizon cannot end before it starts.';
COMMENT ON CONSTRAINT okrs_status_check ON erp.okrs IS
  'An OKR is a draft, active, at risk, achieved, missed or cancelled.';
COMMENT ON CONSTRAINT offers_global_id_check ON erp.offers IS 'The global id may not be blank.';
COMMENT ON CONSTRAINT offers_pricing_model_check ON erp.offers IS
  'An offer is priced fixed, hourly, daily, as a retainer, as a subscription or by value.';
COMMENT ON CONSTRAINT offers_status_check ON erp.offers IS 'An offer is a draft, active or retired.';
COMMENT ON CONSTRAINT offers_list_price_check ON erp.offers IS 'A list price cannot be negative.';
COMMENT ON CONSTRAINT offers_currency_check ON erp.offers IS 'A currency is a three-letter code such as USD or EUR.';
COMMENT ON CONSTRAINT deliverables_global_id_check ON erp.deliverables IS 'The global id may not be blank.';
COMMENT ON CONSTRAINT deliverables_status_check ON erp.deliverables IS
  'A deliverable is planned, active, delivered, accepted or cancelled.';
