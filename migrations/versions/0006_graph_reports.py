"""graph reports: requests with progress and lease, stored report JSON and analysed graph

Revision ID: 0006_graph_reports
Revises: 0005_moderation
Create Date: 2026-11-22 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006_graph_reports'
down_revision = '0005_moderation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('graph_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('purpose_id', sa.Integer(), nullable=True),
    sa.Column('space_id', sa.Integer(), nullable=True),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', 'cancelled', name='reportstatus', native_enum=False, length=16), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=400), nullable=True),
    sa.Column('snapshot_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_graph_reports_brand_id_brands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['purpose_id'], ['purposes.id'], name=op.f('fk_graph_reports_purpose_id_purposes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requested_by'], ['accounts.id'], name=op.f('fk_graph_reports_requested_by_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['space_id'], ['spaces.id'], name=op.f('fk_graph_reports_space_id_spaces'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_graph_reports'))
    )
    with op.batch_alter_table('graph_reports', schema=None) as batch_op:
        batch_op.create_index('ix_graph_reports_brand_id_id', ['brand_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_graph_reports_requested_by'), ['requested_by'], unique=False)

    op.create_table('graph_report_graphs',
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('nodes', sa.Integer(), nullable=False),
    sa.Column('edges', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['graph_reports.id'], name=op.f('fk_graph_report_graphs_report_id_graph_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', name=op.f('pk_graph_report_graphs'))
    )


def downgrade():
    op.drop_table('graph_report_graphs')
    with op.batch_alter_table('graph_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_graph_reports_requested_by'))
        batch_op.drop_index('ix_graph_reports_brand_id_id')
    op.drop_table('graph_reports')
