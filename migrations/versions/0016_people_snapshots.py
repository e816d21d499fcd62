"""people snapshots: every person's profile per brand (or purpose) built off the request; brands.people_version

Revision ID: 0016_people_snapshots
Revises: 0015_ideas
Create Date: 2026-12-05 13:10:00

Brands start at people version 0 with no snapshot: the first people listing schedules a build.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_people_snapshots'
down_revision = '0015_ideas'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('brands', schema=None) as batch_op:
        batch_op.add_column(sa.Column('people_version', sa.Integer(), server_default=sa.text('0'), nullable=False))

    op.create_table('people_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('purpose_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('building', 'ready', 'failed', name='snapshotstatus', native_enum=False, length=16), nullable=False),
    sa.Column('people_version', sa.Integer(), nullable=True),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('clv_model', sa.String(length=40), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=400), nullable=True),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_people_snapshots_brand_id_brands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['purpose_id'], ['purposes.id'], name=op.f('fk_people_snapshots_purpose_id_purposes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people_snapshots'))
    )
    with op.batch_alter_table('people_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_people_snapshots_brand_id_purpose_id_status', ['brand_id', 'purpose_id', 'status'], unique=False)

    op.create_table('snapshot_people',
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('stakeholder_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=True),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('segment', sa.String(length=16), nullable=False),
    sa.Column('recency_days', sa.Float(), nullable=True),
    sa.Column('frequency', sa.Integer(), nullable=False),
    sa.Column('monetary', sa.Float(), nullable=False),
    sa.Column('pyramid_level', sa.Integer(), nullable=False),
    sa.Column('style', sa.String(length=16), nullable=False),
    sa.Column('purpose_alignment', sa.Float(), nullable=False),
    sa.Column('clv', sa.Float(), nullable=True),
    sa.Column('last_active_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('community', sa.Integer(), nullable=True),
    sa.Column('pagerank', sa.Float(), nullable=True),
    sa.Column('opportunity_rank', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['snapshot_id'], ['people_snapshots.id'], name=op.f('fk_snapshot_people_snapshot_id_people_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('snapshot_id', 'stakeholder_id', name=op.f('pk_snapshot_people'))
    )
    with op.batch_alter_table('snapshot_people', schema=None) as batch_op:
        batch_op.create_index('ix_snapshot_people_snapshot_id_clv', ['snapshot_id', 'clv', 'stakeholder_id'], unique=False)
        batch_op.create_index('ix_snapshot_people_snapshot_id_community', ['snapshot_id', 'community'], unique=False)
        batch_op.create_index('ix_snapshot_people_snapshot_id_last_active_at', ['snapshot_id', 'last_active_at', 'stakeholder_id'], unique=False)
        batch_op.create_index('ix_snapshot_people_snapshot_id_opportunity_rank', ['snapshot_id', 'opportunity_rank', 'stakeholder_id'], unique=False)
        batch_op.create_index('ix_snapshot_people_snapshot_id_pyramid_level', ['snapshot_id', 'pyramid_level'], unique=False)
        batch_op.create_index('ix_snapshot_people_snapshot_id_recency_days', ['snapshot_id', 'recency_days', 'stakeholder_id'], unique=False)
        batch_op.create_index('ix_snapshot_people_snapshot_id_segment', ['snapshot_id', 'segment'], unique=False)
        batch_op.create_index(batch_op.f('ix_snapshot_people_stakeholder_id'), ['stakeholder_id'], unique=False)


def downgrade():
    with op.batch_alter_table('snapshot_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_snapshot_people_stakeholder_id'))
        batch_op.drop_index('ix_snapshot_people_snapshot_id_segment')
        batch_op.drop_index('ix_snapshot_people_snapshot_id_recency_days')
        batch_op.drop_index('ix_snapshot_people_snapshot_id_pyramid_level')
        batch_op.drop_index('ix_snapshot_people_snapshot_id_opportunity_rank')
        batch_op.drop_index('ix_snapshot_people_snapshot_id_last_active_at')
        batch_op.drop_index('ix_snapshot_people_snapshot_id_community')
        batch_op.drop_index('ix_snapshot_people_snapshot_id_clv')
    op.drop_table('snapshot_people')
    with op.batch_alter_table('people_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_people_snapshots_brand_id_purpose_id_status')
    op.drop_table('people_snapshots')
    with op.batch_alter_table('brands', schema=None) as batch_op:
        batch_op.drop_column('people_version')
