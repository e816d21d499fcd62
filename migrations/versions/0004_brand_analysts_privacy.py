"""brand analysts; stakeholder objection and erasure times

Revision ID: 0004_brand_analysts_privacy
Revises: 0003_stakeholders
Create Date: 2026-11-22 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004_brand_analysts_privacy'
down_revision = '0003_stakeholders'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('brand_analysts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_brand_analysts_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_brand_analysts_brand_id_brands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_brand_analysts')),
    sa.UniqueConstraint('brand_id', 'account_id', name=op.f('uq_brand_analysts_brand_id'))
    )
    with op.batch_alter_table('brand_analysts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_brand_analysts_account_id'), ['account_id'], unique=False)
    with op.batch_alter_table('stakeholders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('objected_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('stakeholders', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
        batch_op.drop_column('objected_at')
    with op.batch_alter_table('brand_analysts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_brand_analysts_account_id'))
    op.drop_table('brand_analysts')
