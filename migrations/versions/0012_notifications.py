"""notifications: the inbox, levels per space and thread, e-mail settings

Revision ID: 0012_notifications
Revises: 0011_events
Create Date: 2026-12-05 12:09:29

See community/notifications/ and docs/notifications.md.

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_notifications'
down_revision = '0011_events'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_settings',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.Enum('none', 'mentions_replies', 'all', name='emaillevel', native_enum=False), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_notification_settings_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_notification_settings'))
    )
    op.create_table('space_notification_levels',
    sa.Column('space_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('watching', 'tracking', 'normal', 'muted', name='notificationlevel', native_enum=False, length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_space_notification_levels_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['space_id'], ['spaces.id'], name=op.f('fk_space_notification_levels_space_id_spaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('space_id', 'account_id', name=op.f('pk_space_notification_levels'))
    )
    with op.batch_alter_table('space_notification_levels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_space_notification_levels_account_id'), ['account_id'], unique=False)

    op.create_table('thread_notification_levels',
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('watching', 'tracking', 'normal', 'muted', name='notificationlevel', native_enum=False, length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_thread_notification_levels_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_thread_notification_levels_thread_id_threads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('thread_id', 'account_id', name=op.f('pk_thread_notification_levels'))
    )
    with op.batch_alter_table('thread_notification_levels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_thread_notification_levels_account_id'), ['account_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('space_id', sa.Integer(), nullable=True),
    sa.Column('thread_id', sa.Integer(), nullable=True),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('batch_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('email_claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['accounts.id'], name=op.f('fk_notifications_actor_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_notifications_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['accounts.id'], name=op.f('fk_notifications_recipient_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['space_id'], ['spaces.id'], name=op.f('fk_notifications_space_id_spaces'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['thread_id'], ['threads.id'], name=op.f('fk_notifications_thread_id_threads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_email_due', ['created_at'], unique=False, sqlite_where=sa.text('emailed_at IS NULL AND read_at IS NULL'), postgresql_where=sa.text('emailed_at IS NULL AND read_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_notifications_post_id'), ['post_id'], unique=False)
        batch_op.create_index('ix_notifications_recipient', ['recipient_id', 'id'], unique=False)
        batch_op.create_index('uq_notifications_unread_batch', ['recipient_id', 'batch_key'], unique=True, sqlite_where=sa.text('read_at IS NULL AND batch_key IS NOT NULL'), postgresql_where=sa.text('read_at IS NULL AND batch_key IS NOT NULL'))



def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('uq_notifications_unread_batch', sqlite_where=sa.text('read_at IS NULL AND batch_key IS NOT NULL'), postgresql_where=sa.text('read_at IS NULL AND batch_key IS NOT NULL'))
        batch_op.drop_index('ix_notifications_recipient')
        batch_op.drop_index(batch_op.f('ix_notifications_post_id'))
        batch_op.drop_index('ix_notifications_email_due', sqlite_where=sa.text('emailed_at IS NULL AND read_at IS NULL'), postgresql_where=sa.text('emailed_at IS NULL AND read_at IS NULL'))

    op.drop_table('notifications')
    with op.batch_alter_table('thread_notification_levels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_thread_notification_levels_account_id'))

    op.drop_table('thread_notification_levels')
    with op.batch_alter_table('space_notification_levels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_space_notification_levels_account_id'))

    op.drop_table('space_notification_levels')
    op.drop_table('notification_settings')
