"""push and digest: digest settings and bookkeeping on notification_settings

Revision ID: 0017_push_digest
Revises: 0013_report_people
Create Date: 2026-12-05 13:20:00

See community/notifications/digest.py and docs/notifications.md ("Digests").

"""
from alembic import op
import sqlalchemy as sa


revision = '0017_push_digest'
down_revision = '0013_report_people'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest', sa.Enum('none', 'daily', 'weekly', name='digestfrequency', native_enum=False, length=16), nullable=True))
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('digest_hour', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('digest_period', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('digest_claim', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('digest_claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_digest_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('notification_settings', schema=None) as batch_op:
        for column in ('last_digest_at', 'digest_claimed_at', 'digest_claim', 'digest_period', 'digest_hour',
                       'timezone', 'digest'):
            batch_op.drop_column(column)
