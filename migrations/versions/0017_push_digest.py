"""push and digest: digest and push settings on notification_settings, push_subscriptions

Revision ID: 0017_push_digest
Revises: 0016_people_snapshots
Create Date: 2026-12-05 13:20:00

See community/notifications/digest.py and docs/notifications.md ("Digests").

"""
from alembic import op
import sqlalchemy as sa


revision = '0017_push_digest'
down_revision = '0016_people_snapshots'
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
        batch_op.add_column(sa.Column('push', sa.Enum('none', 'mentions_replies', 'all', name='emaillevel', native_enum=False), nullable=True))
        batch_op.add_column(sa.Column('quiet_start', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('quiet_end', sa.Integer(), nullable=True))

    op.create_table('push_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('endpoint', sa.String(length=1024), nullable=False),
    sa.Column('p256dh', sa.String(length=128), nullable=False),
    sa.Column('auth', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_push_subscriptions_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
    sa.UniqueConstraint('endpoint', name=op.f('uq_push_subscriptions_endpoint'))
    )
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_subscriptions_account_id'), ['account_id'], unique=False)


def downgrade():
    op.drop_table('push_subscriptions')
    with op.batch_alter_table('notification_settings', schema=None) as batch_op:
        for column in ('quiet_end', 'quiet_start', 'push', 'last_digest_at', 'digest_claimed_at', 'digest_claim', 'digest_period', 'digest_hour',
                       'timezone', 'digest'):
            batch_op.drop_column(column)
