"""events (issue 27): events of a space, answers with a waitlist and check-in codes, guests invited by e-mail

Revision ID: 0011_events
Revises: 0010_direct
Create Date: 2026-12-05 12:13:05

Touchpoints gain the kind ``rsvp``: a VARCHAR enum without a constraint, so no change here.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_events'
down_revision = '0010_direct'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('space_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('mode', sa.Enum('online', 'in_person', name='eventmode', native_enum=False, length=16), nullable=False),
    sa.Column('location', sa.String(length=300), nullable=True),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('scheduled', 'cancelled', name='eventstatus', native_enum=False, length=16), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_events_created_by_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['space_id'], ['spaces.id'], name=op.f('fk_events_space_id_spaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_space_start', ['space_id', 'starts_at', 'id'], unique=False)

    op.create_table('event_guests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=True),
    sa.Column('invited_by', sa.Integer(), nullable=True),
    sa.Column('stakeholder_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_event_guests_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_guests_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by'], ['accounts.id'], name=op.f('fk_event_guests_invited_by_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stakeholder_id'], ['stakeholders.id'], name=op.f('fk_event_guests_stakeholder_id_stakeholders'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_guests')),
    sa.UniqueConstraint('event_id', 'email_hash', name='uq_event_guests_event_email')
    )
    with op.batch_alter_table('event_guests', schema=None) as batch_op:
        batch_op.create_index('ix_event_guests_inviter_time', ['invited_by', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_guests_stakeholder_id'), ['stakeholder_id'], unique=False)

    op.create_table('event_attendees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('guest_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('going', 'waitlisted', 'maybe', 'declined', name='attendeestatus', native_enum=False, length=16), nullable=False),
    sa.Column('queue_no', sa.Integer(), nullable=True),
    sa.Column('check_in_code', sa.String(length=16), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(account_id IS NULL) <> (guest_id IS NULL)', name=op.f('ck_event_attendees_one_person')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_event_attendees_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_attendees_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['guest_id'], ['event_guests.id'], name=op.f('fk_event_attendees_guest_id_event_guests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_attendees')),
    sa.UniqueConstraint('event_id', 'account_id', name='uq_event_attendees_event_account'),
    sa.UniqueConstraint('event_id', 'check_in_code', name='uq_event_attendees_event_code'),
    sa.UniqueConstraint('event_id', 'guest_id', name='uq_event_attendees_event_guest')
    )
    with op.batch_alter_table('event_attendees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_attendees_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_event_attendees_event_status', ['event_id', 'status', 'queue_no'], unique=False)



def downgrade():
    with op.batch_alter_table('event_attendees', schema=None) as batch_op:
        batch_op.drop_index('ix_event_attendees_event_status')
        batch_op.drop_index(batch_op.f('ix_event_attendees_account_id'))

    op.drop_table('event_attendees')
    with op.batch_alter_table('event_guests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_guests_stakeholder_id'))
        batch_op.drop_index('ix_event_guests_inviter_time')

    op.drop_table('event_guests')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_space_start')

    op.drop_table('events')
