"""A Python service on the portfolio database with asyncpg.

    DATABASE_URL=postgresql://planner_api:...@postgres-erp:5432/portfolio \
        python3 docs/examples/python/portfolio_queries.py projects-of-person 42

Commands: projects-of-person PERSON_ID | sessions-about-project PROJECT_ID |
facts-learnt-in-session SESSION_ID | plan-with-tasks PROJECT_ID CLIENT_ID PLAN_TITLE TASK_TITLE...
Each prints JSON. test/docs/examples.test.ts runs them against a test database (when asyncpg is
importable) and compares the output with the TypeScript example's.

Names are always schema-qualified (erp.projects, agent.sessions): the roles have no useful
search_path, and the two schemas are meant to be read side by side.
"""

import asyncio
import json
import os
import sys

import asyncpg


async def create_pool(database_url):
    # A small pool: the database allows each service role only a few connections.
    return await asyncpg.create_pool(
        database_url, min_size=1, max_size=4, server_settings={"application_name": "portfolio-example"}
    )


async def projects_of_person(db, person_id):
    """Projects a person owns or has tasks assigned in."""
    rows = await db.fetch(
        """SELECT p.id, p.name, p.status, p.owner_person_id IS NOT DISTINCT FROM $1 AS is_owner
             FROM erp.projects p
            WHERE p.owner_person_id = $1
               OR EXISTS (SELECT FROM erp.tasks t WHERE t.project_id = p.id AND t.assignee_id = $1)
            ORDER BY p.name, p.id""",
        person_id,
    )
    return [dict(row) for row in rows]


async def sessions_about_project(db, project_id):
    """Agent sessions about a project; subject_id holds the project's id or its global_id, as text."""
    rows = await db.fetch(
        """SELECT s.id, s.session_type, s.status
             FROM agent.sessions s
             JOIN erp.projects p ON s.subject_id IN (p.id::text, p.global_id)
            WHERE s.subject_type = 'project' AND p.id = $1
            ORDER BY s.started_at, s.id""",
        project_id,
    )
    return [dict(row) for row in rows]


async def facts_learnt_in_session(db, session_id):
    """Facts derived from a session's events, or that its events were promoted to."""
    rows = await db.fetch(
        """SELECT DISTINCT f.id, f.fact_type, f.content
             FROM agent.facts f
             JOIN agent.events e ON e.id = f.source_event_id OR e.promoted_fact_id = f.id
            WHERE e.session_id = $1
            ORDER BY f.id""",
        session_id,
    )
    return [dict(row) for row in rows]


async def plan_with_tasks(pool, project_id, client_id, plan_title, task_titles):
    """One transaction across both schemas: a plan (agent) and its tasks (erp), both or neither.

    The planner_api role may do exactly this. A plan belongs to a client (every agent row but the
    shared configuration does): client_id is its agent.client_profiles.client_id.
    """
    async with pool.acquire() as connection:
        async with connection.transaction():
            plan_id = await connection.fetchval(
                """INSERT INTO agent.plans (client_id, plan_title, metadata)
                   VALUES ($1, $2, jsonb_build_object('project_id', $3::bigint)) RETURNING id""",
                client_id,
                plan_title,
                project_id,
            )
            task_ids = []
            for title in task_titles:
                task_ids.append(
                    await connection.fetchval(
                        "INSERT INTO erp.tasks (title, project_id, description) VALUES ($1, $2, $3) RETURNING id",
                        title,
                        project_id,
                        f"From plan {plan_id}",
                    )
                )
    return {"plan_id": plan_id, "task_ids": task_ids}


async def main(command, entity_id, *rest):
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("Set DATABASE_URL")
    pool = await create_pool(database_url)
    try:
        if command == "projects-of-person":
            return await projects_of_person(pool, int(entity_id))
        if command == "sessions-about-project":
            return await sessions_about_project(pool, int(entity_id))
        if command == "facts-learnt-in-session":
            return await facts_learnt_in_session(pool, int(entity_id))
        if command == "plan-with-tasks":
            client_id, plan_title, *task_titles = rest or ["client", "Plan"]
            return await plan_with_tasks(pool, int(entity_id), client_id, plan_title, task_titles)
        raise SystemExit(f"Unknown command {command}")
    finally:
        await pool.close()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:]))))
