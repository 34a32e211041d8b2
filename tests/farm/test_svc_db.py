"""The database: versioned migrations keep the queue; the store keeps bytes under digests."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from farm.db import SCHEMA_VERSION, Database, migrate, schema_version
from farm.queue import JobQueue, NewJob
from farm.store import Store, TooLarge


def test_migrations_are_recorded_and_reopening_keeps_the_queue(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'farm.db'}"
    db = Database(url)
    assert schema_version(db.engine) == SCHEMA_VERSION
    queue = JobQueue(db)
    job = queue.create(NewJob(name="a.stl", source="stl", file_sha="0" * 64, copies=3))
    db.close()

    again = Database(url)  # an upgrade runs only missing steps
    assert migrate(again.engine) == SCHEMA_VERSION
    jobs = JobQueue(again).list()
    assert [j.id for j in jobs] == [job.id] and len(jobs[0].prints) == 3
    with again.engine.connect() as connection:
        mode = connection.execute(text("PRAGMA journal_mode")).scalar()
    assert mode == "wal"


def test_print_counts_come_from_the_database_and_survive_an_upgrade(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'farm.db'}"
    queue = JobQueue(Database(url), max_attempts=3)
    job = queue.create(NewJob(name="a.stl", source="stl", file_sha="0" * 64, copies=3))
    ids = [p.id for p in job.prints]
    for print_id, ok, cancelled in [(ids[0], True, False), (ids[1], False, False),
                                    (ids[1], False, True), (ids[1], True, False)]:  # fmt: skip
        queue.print_started(print_id, "P1")
        queue.print_ended(print_id, ok, None if ok else "oops", cancelled)
    assert queue.prints_ended() == {"done": 2, "failed": 1}  # a cancel is no failure
    queue.db.close()

    old = Database(url)  # as a database of schema 1 was: no failures column
    with old.engine.begin() as connection:
        connection.execute(text("ALTER TABLE prints DROP COLUMN failures"))
        connection.execute(text("UPDATE schema_version SET version = 1"))
    old.close()
    upgraded = JobQueue(Database(url))
    assert schema_version(upgraded.db.engine) == SCHEMA_VERSION == 2
    assert upgraded.prints_ended() == {"done": 2, "failed": 0}


def test_a_newer_schema_is_refused(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'farm.db'}"
    db = Database(url)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE schema_version SET version = 999"))
    with pytest.raises(RuntimeError, match="newer"):
        Database(url)


def test_store_is_content_addressed_and_limits_size(tmp_path: Path):
    store = Store(tmp_path)
    sha = store.put_text("G28\n")
    assert store.put_bytes(b"G28\n") == sha and store.read_text(sha) == "G28\n"
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")

    async def chunks():
        for _ in range(10):
            yield b"x" * 100

    with pytest.raises(TooLarge):
        asyncio.run(store.put_stream(chunks(), limit_bytes=500))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [store.path(sha)]
    (tmp_path / "tmp" / "tmpcrash").write_bytes(b"half an upload")
    assert Store(tmp_path).clean_tmp() == 1 and store.exists(sha)
