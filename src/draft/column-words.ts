/**
 * The words people name Coda tables and columns with, and the erp tables and columns they mean:
 * what a draft matches names by.
 */

/**
 * Words people name a column with, and the erp columns they mean, most likely first. Keys are
 * whole names or single words, singular, in snake_case ("Assigned to" is assigned_to).
 */
export const MEANINGS: Record<string, string[]> = {
  name: ['name', 'title', 'full_name', 'objective'],
  title: ['title', 'name'],
  due: ['due_date'],
  deadline: ['due_date'],
  due_on: ['due_date'],
  due_by: ['due_date'],
  estimate: ['estimated_hours', 'value_estimate'],
  estimated: ['estimated_hours', 'value_estimate'],
  est: ['estimated_hours'],
  estimation: ['estimated_hours'],
  effort: ['estimated_hours'],
  actual: ['actual_hours'],
  spent: ['actual_hours'],
  logged: ['actual_hours'],
  owner: ['owner_person_id', 'assignee_id'],
  assignee: ['assignee_id', 'owner_person_id'],
  assigned: ['assignee_id', 'owner_person_id'],
  assigned_to: ['assignee_id', 'owner_person_id'],
  lead: ['owner_person_id', 'assignee_id'],
  responsible: ['assignee_id', 'owner_person_id'],
  accountable: ['owner_person_id', 'assignee_id'],
  dri: ['owner_person_id', 'assignee_id'],
  who: ['assignee_id', 'owner_person_id'],
  manager: ['owner_person_id'],
  contact: ['primary_contact_id'],
  primary_contact: ['primary_contact_id'],
  main_contact: ['primary_contact_id'],
  note: ['notes', 'description'],
  description: ['description', 'notes'],
  detail: ['description', 'notes'],
  summary: ['description', 'notes'],
  comment: ['notes', 'description'],
  about: ['description', 'notes'],
  status: ['status'],
  stage: ['status'],
  state: ['status'],
  phase: ['status'],
  progress: ['status'],
  client: ['organization_id', 'client_org_id'],
  customer: ['organization_id', 'client_org_id'],
  organization: ['organization_id', 'client_org_id'],
  organisation: ['organization_id', 'client_org_id'],
  org: ['organization_id', 'client_org_id'],
  company: ['organization_id', 'client_org_id'],
  account: ['organization_id', 'client_org_id'],
  priority: ['priority'],
  prio: ['priority'],
  urgency: ['priority'],
  importance: ['priority'],
  tag: ['tags'],
  label: ['tags'],
  keyword: ['tags'],
  start: ['start_date', 'started_at', 'scheduled_start_date', 'time_horizon_start'],
  begin: ['start_date', 'started_at', 'scheduled_start_date'],
  kickoff: ['start_date', 'started_at'],
  started: ['started_at', 'start_date'],
  end: ['end_date', 'ended_at', 'scheduled_end_date', 'time_horizon_end'],
  finish: ['end_date', 'ended_at', 'scheduled_end_date'],
  ended: ['ended_at', 'end_date'],
  email: ['email'],
  mail: ['email'],
  website: ['website'],
  url: ['website'],
  site: ['website'],
  domain: ['website'],
  type: ['org_type', 'template_type'],
  kind: ['org_type', 'template_type'],
  category: ['org_type', 'template_type'],
  role: ['role_label'],
  job_title: ['role_label'],
  position: ['role_label'],
  active: ['is_active'],
  price: ['list_price'],
  fee: ['list_price'],
  pricing: ['pricing_model'],
  value: ['value_estimate'],
  deal_value: ['value_estimate'],
  capacity: ['capacity_hours'],
  project: ['project_id'],
  venture: ['venture_id'],
  workflow: ['workflow_id'],
  service_blueprint: ['service_blueprint_id'],
  blueprint: ['service_blueprint_id'],
  process_template: ['process_template_id'],
  template: ['process_template_id'],
  execution_run: ['execution_run_id'],
  run: ['execution_run_id'],
  run_id: ['run_identifier'],
  sprint: ['sprint_id'],
  engagement: ['engagement_id'],
  offer: ['offer_id'],
};

/** Units in a name ("Estimate (h)"): a hint at the kind of column, weaker than a word. */
export const UNITS: Record<string, string[]> = {
  h: ['estimated_hours', 'actual_hours', 'capacity_hours'],
  hr: ['estimated_hours', 'actual_hours', 'capacity_hours'],
  hour: ['estimated_hours', 'actual_hours', 'capacity_hours'],
};

/** Words that say nothing about which column is meant. */
export const FILLER = new Set([
  'the',
  'a',
  'an',
  'of',
  'to',
  'for',
  'in',
  'on',
  'by',
  'and',
  'or',
  'is',
  'id',
  'person',
]);

/** erp tables by the words a Coda table is named with, besides their own name. */
const TABLE_MEANINGS: Record<string, string> = {
  client: 'erp.organizations',
  customer: 'erp.organizations',
  account: 'erp.organizations',
  company: 'erp.organizations',
  organisation: 'erp.organizations',
  org: 'erp.organizations',
  partner: 'erp.organizations',
  vendor: 'erp.organizations',
  supplier: 'erp.organizations',
  team: 'erp.people',
  crew: 'erp.people',
  colleague: 'erp.people',
  consultant: 'erp.people',
  staff: 'erp.people',
  member: 'erp.people',
  person: 'erp.people',
  contact: 'erp.people',
  employee: 'erp.people',
  contractor: 'erp.people',
  todo: 'erp.tasks',
  to_do: 'erp.tasks',
  to_dos: 'erp.tasks',
  action_item: 'erp.tasks',
  ticket: 'erp.tasks',
  issue: 'erp.tasks',
  work_item: 'erp.tasks',
  initiative: 'erp.projects',
  job: 'erp.projects',
  business_line: 'erp.ventures',
  objective: 'erp.okrs',
  goal: 'erp.okrs',
  iteration: 'erp.sprints',
  cycle: 'erp.sprints',
  blueprint: 'erp.service_blueprints',
  sop: 'erp.process_templates',
  playbook: 'erp.process_templates',
  checklist: 'erp.process_templates',
  product: 'erp.offers',
  package: 'erp.offers',
};

export function snakeCase(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

/** "Owners" is owner, "Statuses" status: plural words as their singular, for matching. */
function singular(word: string): string {
  if (/(ss|us|is)$/.test(word) || word.length < 4) return word;
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  return word.endsWith('s') ? word.slice(0, -1) : word;
}

/** A name's words, singular, without units in brackets' punctuation: "Estimate (h)" is estimate, h. */
export function wordsOf(name: string): string[] {
  return snakeCase(name).split('_').filter(Boolean).map(singular);
}

/** The erp table a Coda table most likely fills: by its name, then by the words it is named with. */
export function suggestTarget(tableName: string, names: string[]): string | undefined {
  const wanted = snakeCase(tableName);
  const byName =
    names.find((target) => target === `erp.${wanted}`) ?? names.find((target) => target === `erp.${wanted}s`);
  if (byName) return byName;
  // Each word (and pair of words) names a table; the most named wins, and on a tie the later
  // word, as in "Project Tasks".
  const words = wordsOf(tableName);
  const votes = new Map<string, { count: number; last: number }>();
  const phrases = words.flatMap((word, index) => [
    { phrase: word, index },
    { phrase: `${word}_${words[index + 1] ?? ''}`, index: index + 1 },
  ]);
  for (const { phrase, index } of [{ phrase: words.join('_'), index: words.length }, ...phrases]) {
    const target = TABLE_MEANINGS[phrase] ?? `erp.${phrase}s`;
    if (!names.includes(target)) continue;
    const vote = votes.get(target) ?? { count: 0, last: -1 };
    votes.set(target, { count: vote.count + 1, last: Math.max(vote.last, index) });
  }
  const [best, next] = [...votes].sort((a, b) => b[1].count - a[1].count || b[1].last - a[1].last);
  return best && !(next && next[1].count === best[1].count && next[1].last === best[1].last)
    ? best[0]
    : undefined;
}
