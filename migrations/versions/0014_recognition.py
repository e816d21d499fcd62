"""recognition: badges, badge grants, accounts' trust levels

Revision ID: 0014_recognition
Revises: 0013_report_people
Create Date: 2026-12-05 13:20:00

Existing accounts start at trust level 0 (new), unlocked; the recognition job raises them.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_recognition'
down_revision = '0013_report_people'
branch_labels = None
depends_on = None

PLATFORM = sa.text('brand_id IS NULL')


def upgrade():
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trust_level', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('trust_level_locked', sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table('badges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('tier', sa.Enum('bronze', 'silver', 'gold', name='badgetier', native_enum=False, length=16), nullable=False),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_badges_brand_id_brands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_badges')),
    sa.UniqueConstraint('brand_id', 'key', 'tier', name='uq_badges_brand_key_tier')
    )
    with op.batch_alter_table('badges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_badges_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index('uq_badges_platform_key_tier', ['key', 'tier'], unique=True,
                              sqlite_where=PLATFORM, postgresql_where=PLATFORM)

    op.create_table('badge_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('badge_id', sa.Integer(), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('granted_by', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_badge_grants_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['badge_id'], ['badges.id'], name=op.f('fk_badge_grants_badge_id_badges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by'], ['accounts.id'], name=op.f('fk_badge_grants_granted_by_accounts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_badge_grants')),
    sa.UniqueConstraint('account_id', 'badge_id', name='uq_badge_grants_account_badge')
    )
    with op.batch_alter_table('badge_grants', schema=None) as batch_op:
        batch_op.create_index('ix_badge_grants_badge', ['badge_id', 'granted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('badge_grants', schema=None) as batch_op:
        batch_op.drop_index('ix_badge_grants_badge')
    op.drop_table('badge_grants')
    with op.batch_alter_table('badges', schema=None) as batch_op:
        batch_op.drop_index('uq_badges_platform_key_tier', sqlite_where=PLATFORM, postgresql_where=PLATFORM)
        batch_op.drop_index(batch_op.f('ix_badges_brand_id'))
    op.drop_table('badges')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('trust_level_locked')
        batch_op.drop_column('trust_level')
