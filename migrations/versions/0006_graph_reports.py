"""graph reports (filled in by the graph reports work)

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
    pass


def downgrade():
    pass
