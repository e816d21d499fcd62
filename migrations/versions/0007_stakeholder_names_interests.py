"""stakeholders: display name (staff only), declared interests and purposes (issue 20: imports carry what the analysis needs)

Revision ID: 0007_stakeholder_names_interests
Revises: 0006_graph_reports
Create Date: 2026-12-04 21:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_stakeholder_names_interests'
down_revision = '0006_graph_reports'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stakeholders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('interests', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('purpose_ids', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('stakeholders', schema=None) as batch_op:
        batch_op.drop_column('purpose_ids')
        batch_op.drop_column('interests')
        batch_op.drop_column('display_name')
