"""notification fan-outs: a post's fan-out to watchers, owed, done by a worker

Revision ID: 0018_notification_fanouts
Revises: 0017_push_digest
Create Date: 2026-12-06 02:40:00

See community/notifications/fanout.py and docs/notifications.md ("Writing").

"""
from alembic import op
import sqlalchemy as sa


revision = '0018_notification_fanouts'
down_revision = '0017_push_digest'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_fanouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('new_thread', sa.Boolean(), nullable=False),
    sa.Column('exclude', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_notification_fanouts_post_id_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_fanouts'))
    )
    with op.batch_alter_table('notification_fanouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_fanouts_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_fanouts_post_id'), ['post_id'], unique=False)


def downgrade():
    op.drop_table('notification_fanouts')
