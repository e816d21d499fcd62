"""snapshot profiles: the rest of each person's profile in snapshot_people, so GET /stakeholders/{id}/profile reads it

Revision ID: 0021_snapshot_profiles
Revises: 0020_thread_read_positions
Create Date: 2026-12-08 12:00:00

Rows built before this have the new columns null: the profile endpoint computes those people's
profiles as before until the next build (purpose/people_api.py get_profile).

"""
from alembic import op
import sqlalchemy as sa


revision = '0021_snapshot_profiles'
down_revision = '0020_thread_read_positions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('snapshot_people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rfm_r', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rfm_f', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rfm_m', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('style_declared', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('clv_expected_purchases', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('clv_probability_alive', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('pyramid_to_next', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('alignment', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('snapshot_people', schema=None) as batch_op:
        for column in ('alignment', 'pyramid_to_next', 'clv_probability_alive', 'clv_expected_purchases',
                       'style_declared', 'rfm_m', 'rfm_f', 'rfm_r'):
            batch_op.drop_column(column)
