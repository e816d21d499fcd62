"""full-text search: spaces.search_config and the search index

PostgreSQL: tsvector columns kept by triggers, with GIN indexes; SQLite: FTS5 external-content
tables kept by triggers.

Revision ID: 0009_search
Revises: 0008_brand_staff
Create Date: 2026-12-05 12:30:00

The statements are community.search_index's as they were at this revision; existing rows are
indexed here (PostgreSQL: the triggers fire on a no-op update; SQLite: the FTS tables are filled
from their content tables, deleted posts left out).
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_search'
down_revision = '0008_brand_staff'
branch_labels = None
depends_on = None

# dialect -> table -> (create, drop)
_SQL = {'postgresql': {'accounts': (['ALTER TABLE accounts ADD COLUMN IF NOT EXISTS search_vector tsvector',
                              'CREATE OR REPLACE FUNCTION accounts_search_vector() RETURNS trigger LANGUAGE '
                              "plpgsql AS $$ BEGIN NEW.search_vector := to_tsvector('simple'::regconfig, "
                              "coalesce(NEW.handle, '') || ' ' || coalesce(NEW.display_name, '')); RETURN NEW; END "
                              '$$',
                              'CREATE TRIGGER accounts_search_vector BEFORE INSERT OR UPDATE OF handle, '
                              'display_name ON accounts FOR EACH ROW EXECUTE FUNCTION accounts_search_vector()',
                              'CREATE INDEX IF NOT EXISTS ix_accounts_search ON accounts USING gin '
                              '(search_vector)'],
                             ['DROP TRIGGER IF EXISTS accounts_search_vector ON accounts',
                              'DROP FUNCTION IF EXISTS accounts_search_vector()',
                              'DROP INDEX IF EXISTS ix_accounts_search',
                              'ALTER TABLE accounts DROP COLUMN IF EXISTS search_vector']),
                'posts': (['ALTER TABLE posts ADD COLUMN IF NOT EXISTS search_vector tsvector',
                           'CREATE OR REPLACE FUNCTION posts_search_vector() RETURNS trigger LANGUAGE plpgsql AS '
                           '$$ BEGIN NEW.search_vector := CASE WHEN NEW.deleted THEN NULL ELSE to_tsvector((SELECT '
                           "search_config FROM spaces WHERE id = NEW.space_id)::regconfig, coalesce(NEW.body, '')) "
                           'END; RETURN NEW; END $$',
                           'CREATE TRIGGER posts_search_vector BEFORE INSERT OR UPDATE OF body, deleted, space_id '
                           'ON posts FOR EACH ROW EXECUTE FUNCTION posts_search_vector()',
                           'CREATE INDEX IF NOT EXISTS ix_posts_search ON posts USING gin (search_vector)'],
                          ['DROP TRIGGER IF EXISTS posts_search_vector ON posts',
                           'DROP FUNCTION IF EXISTS posts_search_vector()',
                           'DROP INDEX IF EXISTS ix_posts_search',
                           'ALTER TABLE posts DROP COLUMN IF EXISTS search_vector']),
                'spaces': (['ALTER TABLE spaces ADD COLUMN IF NOT EXISTS search_vector tsvector',
                            'CREATE OR REPLACE FUNCTION spaces_search_vector() RETURNS trigger LANGUAGE plpgsql AS '
                            '$$ BEGIN NEW.search_vector := to_tsvector(NEW.search_config::regconfig, '
                            "coalesce(NEW.name, '') || ' ' || coalesce(NEW.description, '')); RETURN NEW; END $$",
                            'CREATE TRIGGER spaces_search_vector BEFORE INSERT OR UPDATE OF name, description, '
                            'search_config ON spaces FOR EACH ROW EXECUTE FUNCTION spaces_search_vector()',
                            'CREATE INDEX IF NOT EXISTS ix_spaces_search ON spaces USING gin (search_vector)'],
                           ['DROP TRIGGER IF EXISTS spaces_search_vector ON spaces',
                            'DROP FUNCTION IF EXISTS spaces_search_vector()',
                            'DROP INDEX IF EXISTS ix_spaces_search',
                            'ALTER TABLE spaces DROP COLUMN IF EXISTS search_vector']),
                'threads': (['ALTER TABLE threads ADD COLUMN IF NOT EXISTS search_vector tsvector',
                             'CREATE OR REPLACE FUNCTION threads_search_vector() RETURNS trigger LANGUAGE plpgsql '
                             'AS $$ BEGIN NEW.search_vector := to_tsvector((SELECT search_config FROM spaces WHERE '
                             "id = NEW.space_id)::regconfig, coalesce(NEW.title, '')); RETURN NEW; END $$",
                             'CREATE TRIGGER threads_search_vector BEFORE INSERT OR UPDATE OF title, space_id ON '
                             'threads FOR EACH ROW EXECUTE FUNCTION threads_search_vector()',
                             'CREATE INDEX IF NOT EXISTS ix_threads_search ON threads USING gin (search_vector)'],
                            ['DROP TRIGGER IF EXISTS threads_search_vector ON threads',
                             'DROP FUNCTION IF EXISTS threads_search_vector()',
                             'DROP INDEX IF EXISTS ix_threads_search',
                             'ALTER TABLE threads DROP COLUMN IF EXISTS search_vector'])},
 'sqlite': {'accounts': (['CREATE VIRTUAL TABLE IF NOT EXISTS accounts_fts USING fts5(handle, display_name, '
                          "content='accounts', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
                          'INSERT INTO accounts_fts(rowid, handle, display_name) SELECT id, handle, display_name '
                          'FROM accounts AS new WHERE 1',
                          'CREATE TRIGGER IF NOT EXISTS accounts_fts_insert AFTER INSERT ON accounts WHEN 1 BEGIN '
                          'INSERT INTO accounts_fts(rowid, handle, display_name) VALUES (new.id, new.handle, '
                          'new.display_name); END',
                          'CREATE TRIGGER IF NOT EXISTS accounts_fts_delete AFTER DELETE ON accounts WHEN 1 BEGIN '
                          "INSERT INTO accounts_fts(accounts_fts, rowid, handle, display_name) VALUES ('delete', "
                          'old.id, old.handle, old.display_name); END',
                          'CREATE TRIGGER IF NOT EXISTS accounts_fts_update AFTER UPDATE OF handle, display_name '
                          'ON accounts BEGIN INSERT INTO accounts_fts(accounts_fts, rowid, handle, display_name) '
                          "SELECT 'delete', old.id, old.handle, old.display_name WHERE 1; INSERT INTO "
                          'accounts_fts(rowid, handle, display_name) SELECT new.id, new.handle, new.display_name '
                          'WHERE 1; END'],
                         ['DROP TRIGGER IF EXISTS accounts_fts_insert',
                          'DROP TRIGGER IF EXISTS accounts_fts_delete',
                          'DROP TRIGGER IF EXISTS accounts_fts_update',
                          'DROP TABLE IF EXISTS accounts_fts']),
            'posts': (["CREATE VIRTUAL TABLE IF NOT EXISTS posts_fts USING fts5(body, content='posts', "
                       "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
                       'INSERT INTO posts_fts(rowid, body) SELECT id, body FROM posts AS new WHERE NOT new.deleted',
                       'CREATE TRIGGER IF NOT EXISTS posts_fts_insert AFTER INSERT ON posts WHEN NOT new.deleted '
                       'BEGIN INSERT INTO posts_fts(rowid, body) VALUES (new.id, new.body); END',
                       'CREATE TRIGGER IF NOT EXISTS posts_fts_delete AFTER DELETE ON posts WHEN NOT old.deleted '
                       "BEGIN INSERT INTO posts_fts(posts_fts, rowid, body) VALUES ('delete', old.id, old.body); "
                       'END',
                       'CREATE TRIGGER IF NOT EXISTS posts_fts_update AFTER UPDATE OF body, deleted ON posts BEGIN '
                       "INSERT INTO posts_fts(posts_fts, rowid, body) SELECT 'delete', old.id, old.body WHERE NOT "
                       'old.deleted; INSERT INTO posts_fts(rowid, body) SELECT new.id, new.body WHERE NOT '
                       'new.deleted; END'],
                      ['DROP TRIGGER IF EXISTS posts_fts_insert',
                       'DROP TRIGGER IF EXISTS posts_fts_delete',
                       'DROP TRIGGER IF EXISTS posts_fts_update',
                       'DROP TABLE IF EXISTS posts_fts']),
            'spaces': (['CREATE VIRTUAL TABLE IF NOT EXISTS spaces_fts USING fts5(name, description, '
                        "content='spaces', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
                        'INSERT INTO spaces_fts(rowid, name, description) SELECT id, name, description FROM spaces '
                        'AS new WHERE 1',
                        'CREATE TRIGGER IF NOT EXISTS spaces_fts_insert AFTER INSERT ON spaces WHEN 1 BEGIN INSERT '
                        'INTO spaces_fts(rowid, name, description) VALUES (new.id, new.name, new.description); END',
                        'CREATE TRIGGER IF NOT EXISTS spaces_fts_delete AFTER DELETE ON spaces WHEN 1 BEGIN INSERT '
                        "INTO spaces_fts(spaces_fts, rowid, name, description) VALUES ('delete', old.id, old.name, "
                        'old.description); END',
                        'CREATE TRIGGER IF NOT EXISTS spaces_fts_update AFTER UPDATE OF name, description ON '
                        'spaces BEGIN INSERT INTO spaces_fts(spaces_fts, rowid, name, description) SELECT '
                        "'delete', old.id, old.name, old.description WHERE 1; INSERT INTO spaces_fts(rowid, name, "
                        'description) SELECT new.id, new.name, new.description WHERE 1; END'],
                       ['DROP TRIGGER IF EXISTS spaces_fts_insert',
                        'DROP TRIGGER IF EXISTS spaces_fts_delete',
                        'DROP TRIGGER IF EXISTS spaces_fts_update',
                        'DROP TABLE IF EXISTS spaces_fts']),
            'threads': (["CREATE VIRTUAL TABLE IF NOT EXISTS threads_fts USING fts5(title, content='threads', "
                         "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
                         'INSERT INTO threads_fts(rowid, title) SELECT id, title FROM threads AS new WHERE 1',
                         'CREATE TRIGGER IF NOT EXISTS threads_fts_insert AFTER INSERT ON threads WHEN 1 BEGIN '
                         'INSERT INTO threads_fts(rowid, title) VALUES (new.id, new.title); END',
                         'CREATE TRIGGER IF NOT EXISTS threads_fts_delete AFTER DELETE ON threads WHEN 1 BEGIN '
                         "INSERT INTO threads_fts(threads_fts, rowid, title) VALUES ('delete', old.id, old.title); "
                         'END',
                         'CREATE TRIGGER IF NOT EXISTS threads_fts_update AFTER UPDATE OF title ON threads BEGIN '
                         "INSERT INTO threads_fts(threads_fts, rowid, title) SELECT 'delete', old.id, old.title "
                         'WHERE 1; INSERT INTO threads_fts(rowid, title) SELECT new.id, new.title WHERE 1; END'],
                        ['DROP TRIGGER IF EXISTS threads_fts_insert',
                         'DROP TRIGGER IF EXISTS threads_fts_delete',
                         'DROP TRIGGER IF EXISTS threads_fts_update',
                         'DROP TABLE IF EXISTS threads_fts'])}}

_REFILL = {
    'accounts': 'UPDATE accounts SET handle = handle',
    'spaces': 'UPDATE spaces SET name = name',
    'threads': 'UPDATE threads SET title = title',
    'posts': 'UPDATE posts SET body = body',
}


def upgrade():
    with op.batch_alter_table('spaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_config', sa.String(length=16), server_default='english', nullable=False))
    dialect = op.get_bind().dialect.name
    for table, (create, _drop) in _SQL.get(dialect, {}).items():
        for statement in create:
            op.execute(statement)
        if dialect == 'postgresql':
            op.execute(_REFILL[table])


def downgrade():
    dialect = op.get_bind().dialect.name
    for table, (_create, drop) in reversed(list(_SQL.get(dialect, {}).items())):
        for statement in drop:
            op.execute(statement)
    with op.batch_alter_table('spaces', schema=None) as batch_op:
        batch_op.drop_column('search_config')
