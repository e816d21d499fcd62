"""``flask db upgrade`` on an empty database yields exactly the models' schema (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from app import create_app
from community.search_index import include_object
from core.extensions import db
from tests.helpers import TEST_DATABASE_URL, base_config


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new empty database: a SQLite file, or a throwaway PostgreSQL database."""
    if not TEST_DATABASE_URL:
        yield "sqlite:///" + str(tmp_path / "migrations.db")
        return
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    admin_url = TEST_DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield TEST_DATABASE_URL.rsplit("/", 1)[0] + "/" + name
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def test_upgrade_matches_models_and_downgrade_empties(empty_database_url):
    app = create_app(base_config(empty_database_url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            # The search index (community/search_index.py) is made by SQL, not declared in the models.
            opts = {"compare_type": True, "include_object": include_object}
            diff = compare_metadata(MigrationContext.configure(conn, opts=opts), db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        db.engine.dispose()


def test_upgrade_keeps_existing_accounts_and_fills_new_columns(empty_database_url):
    app = create_app(base_config(empty_database_url))
    with app.app_context():
        upgrade(revision="0002_space_events")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO accounts (email, handle, display_name, password_hash, role, status, created_at) "
                "VALUES ('old@example.com', 'old_timer', 'Old', 'x', 'member', 'active', CURRENT_TIMESTAMP)"
            ))
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT handle, interests FROM accounts")).all()
        # PostgreSQL returns JSON decoded; SQLite returns the stored text.
        decoded = [(handle, value if isinstance(value, list) else json.loads(value)) for handle, value in rows]
        assert decoded == [("old_timer", [])]
        db.engine.dispose()
