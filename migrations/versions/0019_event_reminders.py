"""event reminders and calendar feeds: the reminder's claim on each answer, members' feed addresses

Revision ID: 0019_event_reminders
Revises: 0018_notification_fanouts
Create Date: 2026-12-06 04:10:00

See events/reminders.py, events/feeds.py and docs/api.md ("Events").

"""
from alembic import op
import sqlalchemy as sa


revision = '0019_event_reminders'
down_revision = '0018_notification_fanouts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('event_attendees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('event_calendar_feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('space_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_event_calendar_feeds_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['space_id'], ['spaces.id'], name=op.f('fk_event_calendar_feeds_space_id_spaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_calendar_feeds')),
    sa.UniqueConstraint('account_id', 'space_id', name='uq_event_calendar_feeds_account_space')
    )
    with op.batch_alter_table('event_calendar_feeds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_calendar_feeds_space_id'), ['space_id'], unique=False)


def downgrade():
    with op.batch_alter_table('event_calendar_feeds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_calendar_feeds_space_id'))

    op.drop_table('event_calendar_feeds')
    with op.batch_alter_table('event_attendees', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')
