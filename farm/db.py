"""The farm's state in a SQL database through SQLAlchemy 2: jobs, prints, slices, printers, keys.

SQLite in WAL mode by default (``sqlite:///DATA_DIR/farm.db``); any SQLAlchemy URL works
(PostgreSQL). The schema is versioned: ``schema_version`` holds the number of the last
migration applied, and :data:`MIGRATIONS` lists the steps from an empty database, so an
upgrade runs the missing steps and never drops a table that holds a queue.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum

from sqlalchemy import (
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
)

log = logging.getLogger(__name__)


class JobState(StrEnum):
    SLICING = "slicing"
    QUEUED = "queued"
    PRINTING = "printing"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class PrintState(StrEnum):
    WAITING = "waiting"
    SCHEDULED = "scheduled"
    PRINTING = "printing"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


# Prints the planner may place: they wait for a printer.
PLANNABLE = frozenset({PrintState.WAITING, PrintState.SCHEDULED, PrintState.INTERRUPTED})
FINISHED = frozenset({PrintState.DONE, PrintState.FAILED, PrintState.CANCELLED})


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite forgets the zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is None:
            return None
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: object
    ) -> dt.datetime | None:
        return value.replace(tzinfo=dt.UTC) if value is not None else None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class JobRow(Base):
    __tablename__ = "jobs"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(8))
    file_sha: Mapped[str] = mapped_column(String(64))
    copies: Mapped[int] = mapped_column(Integer, default=1)
    material: Mapped[str] = mapped_column(String(32))
    color: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer, default=1)
    due: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    printer_model: Mapped[str | None] = mapped_column(String(64), nullable=True)
    settings: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=JobState.SLICING)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    thumbnail_sha: Mapped[str | None] = mapped_column(String(64), nullable=True)
    prints: Mapped[list[PrintRow]] = relationship(
        back_populates="job", order_by="PrintRow.copy", cascade="all, delete-orphan"
    )
    slices: Mapped[list[SliceRow]] = relationship(
        back_populates="job", order_by="SliceRow.printer_model", cascade="all, delete-orphan"
    )

    @property
    def id(self) -> str:
        return job_id(self.seq)


class SliceRow(Base):
    """The G-code of one job for one printer model, with the slicer's estimates."""

    __tablename__ = "slices"
    job_seq: Mapped[int] = mapped_column(ForeignKey("jobs.seq"), primary_key=True)
    printer_model: Mapped[str] = mapped_column(String(64), primary_key=True)
    gcode_sha: Mapped[str] = mapped_column(String(64))
    duration_s: Mapped[float] = mapped_column(Float)
    filament_g: Mapped[float] = mapped_column(Float, default=0.0)
    layers: Mapped[int] = mapped_column(Integer, default=0)
    bbox_x_mm: Mapped[float] = mapped_column(Float, default=0.0)
    bbox_y_mm: Mapped[float] = mapped_column(Float, default=0.0)
    bbox_z_mm: Mapped[float] = mapped_column(Float, default=0.0)
    job: Mapped[JobRow] = relationship(back_populates="slices")


class PrintRow(Base):
    """One copy of a job: the unit the scheduler places and a printer prints."""

    __tablename__ = "prints"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_seq: Mapped[int] = mapped_column(ForeignKey("jobs.seq"), index=True)
    copy: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default=PrintState.WAITING, index=True)
    printer_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    started: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    job: Mapped[JobRow] = relationship(back_populates="prints")


class PrinterRow(Base):
    """What the farm knows of a printer across restarts (not its live connection state)."""

    __tablename__ = "printers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    material: Mapped[str] = mapped_column(String(32))
    color: Mapped[str] = mapped_column(String(32))
    bed_clear: Mapped[int] = mapped_column(Integer, default=1)
    maintenance: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    needs_operator: Mapped[int] = mapped_column(Integer, default=0)


def job_id(seq: int) -> str:
    return f"J{seq:04d}"


def job_seq(job_id_text: str) -> int | None:
    """The row key of a job id like ``J0001``; None when it is not one."""
    if len(job_id_text) < 2 or job_id_text[0] != "J" or not job_id_text[1:].isdigit():
        return None
    return int(job_id_text[1:])


# --- migrations -------------------------------------------------------------------------


def _v1_initial(connection) -> None:
    Base.metadata.create_all(connection)


def _v2_print_failures(connection) -> None:
    """``prints.failures``: attempts that ended in a failure (not a cancel), for the
    ``slicefarm_prints_total`` counter; a database made by step 1 of this version has it."""
    if "failures" not in {c["name"] for c in inspect(connection).get_columns("prints")}:
        connection.execute(
            text("ALTER TABLE prints ADD COLUMN failures INTEGER NOT NULL DEFAULT 0")
        )


# Append new steps; never edit or reorder a released one.
MIGRATIONS: tuple[Callable, ...] = (_v1_initial, _v2_print_failures)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(engine: Engine) -> int:
    """Apply the missing migrations in order; returns the schema version now in place."""
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)"))
        row = connection.execute(text("SELECT version FROM schema_version")).first()
        current = row[0] if row else 0
        if row is None:
            connection.execute(text("INSERT INTO schema_version (version) VALUES (0)"))
        if current > SCHEMA_VERSION:
            raise RuntimeError(
                f"database schema version {current} is newer than this slicefarm "
                f"({SCHEMA_VERSION}); upgrade slicefarm"
            )
        for number in range(current + 1, SCHEMA_VERSION + 1):
            log.info("database: applying migration %d", number)
            MIGRATIONS[number - 1](connection)
            connection.execute(text("UPDATE schema_version SET version = :v"), {"v": number})
    return SCHEMA_VERSION


def schema_version(engine: Engine) -> int:
    if not inspect(engine).has_table("schema_version"):
        return 0
    with engine.connect() as connection:
        row = connection.execute(text("SELECT version FROM schema_version")).first()
        return row[0] if row else 0


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class Database:
    """An engine, its session factory, and the migrations applied on open."""

    def __init__(self, url: str):
        self.url = url
        is_sqlite = url.startswith("sqlite")
        connect_args = {"check_same_thread": False, "timeout": 5} if is_sqlite else {}
        self.engine = create_engine(url, connect_args=connect_args)
        if is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
