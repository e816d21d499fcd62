"""moderation: flags, actions, audit log (filled in by the moderation work)

Revision ID: 0005_moderation
Revises: 0004_brand_analysts_privacy
Create Date: 2026-11-22 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005_moderation'
down_revision = '0004_brand_analysts_privacy'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
