"""thread read positions: how far each member has read a thread, and the index unread counts read

Revision ID: 0020_thread_read_positions
Revises: 0019_event_reminders
Create Date: 2026-12-08 10:00:00

See community/conversations/reading.py and docs/notifications.md ("Unread counts").

"""
from alembic import op
import sqlalchemy as sa


revision = '0020_thread_read_positions'
down_revision = '0019_event_reminders'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('thread_read_positions',
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_thread_read_positions_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_thread_read_positions_thread_id_threads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('thread_id', 'account_id', name=op.f('pk_thread_read_positions'))
    )
    with op.batch_alter_table('thread_read_positions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_thread_read_positions_account_id'), ['account_id'], unique=False)

    # Not in batch mode: posts keeps its search triggers (0009_search), which a copied table would lose.
    op.create_index('ix_posts_thread_unread', 'posts', ['thread_id', 'id', 'author_id', 'deleted', 'hidden'], unique=False)


def downgrade():
    op.drop_index('ix_posts_thread_unread', table_name='posts')

    with op.batch_alter_table('thread_read_positions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_thread_read_positions_account_id'))

    op.drop_table('thread_read_positions')
