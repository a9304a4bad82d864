"""Agent memory from a Python service with asyncpg, as the memory gateway login.

    DATABASE_URL=postgresql://memory_gateway:...@postgres-erp:5432/portfolio \
        python3 docs/examples/python/agent_memory.py recall telegram:12345 "invoice preferences"

Commands: remember CLIENT_ID CONTENT [TTL_MINUTES] | recall CLIENT_ID QUERY |
forget CLIENT_ID MEMORY_ID | set-fact CLIENT_ID FACT_KEY FACT_VALUE |
facts-as-of CLIENT_ID VALID_AT [KNOWN_AT]. Each prints JSON.
test/docs/agent-memory-examples.test.ts runs them against a test database (when asyncpg is
importable) next to the TypeScript example.

The work happens in SQL functions of schema agent (migration 009): the service passes the
client's id and never builds search or ranking itself.
"""

import asyncio
import json
import os
import sys
from datetime import datetime, timezone

import asyncpg


async def create_pool(database_url):
    # A small pool: the database allows each service role only a few connections.
    return await asyncpg.create_pool(
        database_url, min_size=1, max_size=4, server_settings={"application_name": "agent-memory-example"}
    )


async def remember(db, client_id, content, ttl_minutes=None):
    """The same content again (whitespace and case ignored) returns the same memory, counted."""
    row = await db.fetchrow(
        """SELECT id, content, repeat_count, expires_at
             FROM agent.remember(client_id => $1, content => $2, ttl_minutes => $3)""",
        client_id, content, ttl_minutes,
    )
    return {**dict(row), "expires_at": row["expires_at"] and row["expires_at"].isoformat()}


async def recall(db, client_id, query, max_results=5, embedding=None):
    """Best first; pass an embedding (1536 floats) to let vector similarity join the ranking."""
    rows = await db.fetch(
        """SELECT id, content, score
             FROM agent.recall(client_id => $1, query => $2, max_results => $3, query_embedding => $4::real[])""",
        client_id, query, max_results, embedding,
    )
    return [dict(row) for row in rows]


async def forget(db, client_id, memory_id):
    """1 when the memory was removed, 0 when the client has no such memory."""
    return await db.fetchval("SELECT agent.forget(client_id => $1, memory_id => $2)", client_id, memory_id)


async def set_fact(db, client_id, fact_key, fact_value):
    """Facts are append-only: a new value is a new version; the old one stays for as-of questions."""
    await db.execute(
        "INSERT INTO agent.memory_facts (client_id, fact_key, fact_value) VALUES ($1, $2, $3)",
        client_id, fact_key, fact_value,
    )


async def facts_as_of(db, client_id, valid_at, known_at=None):
    """What we believed at known_at (default: now) about the client's facts at valid_at."""
    rows = await db.fetch(
        "SELECT fact_key, fact_value FROM agent.memory_facts_as_of($1, $2, $3)",
        client_id, valid_at, known_at or datetime.now(timezone.utc),
    )
    return {row["fact_key"]: row["fact_value"] for row in rows}


async def main(command, client_id, *rest):
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("Set DATABASE_URL")
    pool = await create_pool(database_url)
    try:
        if command == "remember":
            return await remember(pool, client_id, rest[0], int(rest[1]) if len(rest) > 1 else None)
        if command == "recall":
            return await recall(pool, client_id, rest[0])
        if command == "forget":
            return await forget(pool, client_id, int(rest[0]))
        if command == "set-fact":
            return await set_fact(pool, client_id, rest[0], rest[1])
        if command == "facts-as-of":
            known_at = datetime.fromisoformat(rest[1]) if len(rest) > 1 else None
            return await facts_as_of(pool, client_id, datetime.fromisoformat(rest[0]), known_at)
        raise SystemExit(f"Unknown command {command}")
    finally:
        await pool.close()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:]))))
