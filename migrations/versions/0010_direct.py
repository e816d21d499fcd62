"""direct conversations: spaces of visibility 'direct' with no purpose, their pair key, read positions

Revision ID: 0010_direct
Revises: 0009_search
Create Date: 2026-12-05 12:30:00

A conversation is a space (so posting, sequence numbers, resume and typing are the spaces'
own); ``direct_conversations`` says which spaces are conversations, their one thread, and for a
one-to-one the canonical pair (lower account id, higher), unique. ``spaces.visibility`` is a
VARCHAR(16) without a CHECK (native_enum=False), so 'direct' needs no change to it.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_direct'
down_revision = '0009_search'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('spaces', schema=None) as batch_op:
        batch_op.alter_column('purpose_id', existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('read_seq', sa.Integer(), nullable=False, server_default='0'))
    op.create_table('direct_conversations',
    sa.Column('space_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('pair', 'group', name='conversationkind', native_enum=False, length=16), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=True),
    sa.Column('pair_low_id', sa.Integer(), nullable=True),
    sa.Column('pair_high_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['accounts.id'], name=op.f('fk_direct_conversations_created_by_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pair_high_id'], ['accounts.id'], name=op.f('fk_direct_conversations_pair_high_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pair_low_id'], ['accounts.id'], name=op.f('fk_direct_conversations_pair_low_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['space_id'], ['spaces.id'], name=op.f('fk_direct_conversations_space_id_spaces'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_direct_conversations_thread_id_threads'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('space_id', name=op.f('pk_direct_conversations')),
    sa.UniqueConstraint('pair_low_id', 'pair_high_id', name=op.f('uq_direct_conversations_pair_low_id'))
    )
    with op.batch_alter_table('direct_conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_direct_conversations_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_direct_conversations_pair_high_id'), ['pair_high_id'], unique=False)


def downgrade():
    with op.batch_alter_table('direct_conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_direct_conversations_pair_high_id'))
        batch_op.drop_index(batch_op.f('ix_direct_conversations_created_by_id'))
    op.drop_table('direct_conversations')
    op.execute("DELETE FROM spaces WHERE purpose_id IS NULL")  # the conversations: they cannot outlive this
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('read_seq')
    with op.batch_alter_table('spaces', schema=None) as batch_op:
        batch_op.alter_column('purpose_id', existing_type=sa.Integer(), nullable=False)
