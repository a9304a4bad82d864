/**
 * A TypeScript service on the portfolio database with node-postgres (`pg`).
 *
 *   DATABASE_URL=postgresql://planner_api:...@postgres-erp:5432/portfolio \
 *     node --import tsx docs/examples/typescript/portfolio-queries.ts projects-of-person 42
 *
 * Commands: projects-of-person PERSON_ID | sessions-about-project PROJECT_ID |
 * facts-learnt-in-session SESSION_ID | plan-with-tasks PROJECT_ID CLIENT_ID PLAN_TITLE TASK_TITLE...
 * Each prints JSON. test/docs/examples.test.ts runs these functions against a test database.
 *
 * Names are always schema-qualified (erp.projects, agent.sessions): the roles have no useful
 * search_path, and the two schemas are meant to be read side by side.
 * node-postgres returns bigint (every id) as a string, since it may exceed 2^53.
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';

/** Pool or client: the queries run the same inside or outside a transaction. */
type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

export function createPool(databaseUrl: string): pg.Pool {
  // A small pool: the database allows each service role only a few connections.
  return new pg.Pool({ connectionString: databaseUrl, max: 4, application_name: 'portfolio-example' });
}

export interface ProjectOfPerson {
  id: string;
  name: string;
  status: string;
  is_owner: boolean;
}

/** Projects a person owns or has tasks assigned in. */
export async function projectsOfPerson(db: Queryable, personId: number): Promise<ProjectOfPerson[]> {
  const { rows } = await db.query<ProjectOfPerson>(
    `SELECT p.id, p.name, p.status, p.owner_person_id IS NOT DISTINCT FROM $1 AS is_owner
       FROM erp.projects p
      WHERE p.owner_person_id = $1
         OR EXISTS (SELECT FROM erp.tasks t WHERE t.project_id = p.id AND t.assignee_id = $1)
      ORDER BY p.name, p.id`,
    [personId],
  );
  return rows;
}

export interface SessionAboutProject {
  id: string;
  session_type: string;
  status: string;
}

/** Agent sessions about a project; subject_id holds the project's id or its global_id, as text. */
export async function sessionsAboutProject(db: Queryable, projectId: number): Promise<SessionAboutProject[]> {
  const { rows } = await db.query<SessionAboutProject>(
    `SELECT s.id, s.session_type, s.status
       FROM agent.sessions s
       JOIN erp.projects p ON s.subject_id IN (p.id::text, p.global_id)
      WHERE s.subject_type = 'project' AND p.id = $1
      ORDER BY s.started_at, s.id`,
    [projectId],
  );
  return rows;
}

export interface FactLearnt {
  id: string;
  fact_type: string;
  content: string;
}

/** Facts derived from a session's events, or that its events were promoted to. */
export async function factsLearntInSession(db: Queryable, sessionId: number): Promise<FactLearnt[]> {
  const { rows } = await db.query<FactLearnt>(
    `SELECT DISTINCT f.id, f.fact_type, f.content
       FROM agent.facts f
       JOIN agent.events e ON e.id = f.source_event_id OR e.promoted_fact_id = f.id
      WHERE e.session_id = $1
      ORDER BY f.id`,
    [sessionId],
  );
  return rows;
}

export interface PlanWithTasks {
  plan_id: string;
  task_ids: string[];
}

/**
 * One transaction across both schemas: a plan (agent) and its tasks (erp) are written together
 * or not at all. The planner_api role may do exactly this. A plan belongs to a client (every agent
 * row but the shared configuration does): clientId is its agent.client_profiles.client_id.
 */
export async function planWithTasks(
  pool: pg.Pool,
  projectId: number,
  clientId: string,
  planTitle: string,
  taskTitles: string[],
): Promise<PlanWithTasks> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const plan = await client.query<{ id: string }>(
      `INSERT INTO agent.plans (client_id, plan_title, metadata) VALUES ($1, $2, jsonb_build_object('project_id', $3::bigint)) RETURNING id`,
      [clientId, planTitle, projectId],
    );
    const planId = plan.rows[0]!.id;
    const taskIds: string[] = [];
    for (const title of taskTitles) {
      const task = await client.query<{ id: string }>(
        `INSERT INTO erp.tasks (title, project_id, description) VALUES ($1, $2, $3) RETURNING id`,
        [title, projectId, `From plan ${planId}`],
      );
      taskIds.push(task.rows[0]!.id);
    }
    await client.query('COMMIT');
    return { plan_id: planId, task_ids: taskIds };
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

async function main([command, id, ...rest]: string[]): Promise<unknown> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('Set DATABASE_URL');
  const pool = createPool(databaseUrl);
  try {
    switch (command) {
      case 'projects-of-person':
        return await projectsOfPerson(pool, Number(id));
      case 'sessions-about-project':
        return await sessionsAboutProject(pool, Number(id));
      case 'facts-learnt-in-session':
        return await factsLearntInSession(pool, Number(id));
      case 'plan-with-tasks': {
        const [clientId = 'client', planTitle = 'Plan', ...taskTitles] = rest;
        return await planWithTasks(pool, Number(id), clientId, planTitle, taskTitles);
      }
      default:
        throw new Error(`Unknown command ${command}`);
    }
  } finally {
    await pool.end();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (result) => console.log(JSON.stringify(result)),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
