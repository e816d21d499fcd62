"""report people: one row per person of a done report, indexed for the people listing

Revision ID: 0013_report_people
Revises: 0012_notifications
Create Date: 2026-12-05 12:20:00

Reports stored before this revision have no rows; their people listing says so (409).

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_report_people'
down_revision = '0012_notifications'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('report_people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=True),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('stakeholder_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('segment', sa.String(length=16), nullable=True),
    sa.Column('pyramid_level', sa.Integer(), nullable=False),
    sa.Column('style_preference', sa.String(length=16), nullable=True),
    sa.Column('community', sa.Integer(), nullable=False),
    sa.Column('pagerank', sa.Float(), nullable=False),
    sa.Column('betweenness', sa.Float(), nullable=False),
    sa.Column('core_number', sa.Integer(), nullable=False),
    sa.Column('opportunity_rank', sa.Integer(), nullable=True),
    sa.Column('opportunity_score', sa.Float(), nullable=True),
    sa.Column('clv', sa.Float(), nullable=False),
    sa.Column('purpose_alignment', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['graph_reports.id'], name=op.f('fk_report_people_report_id_graph_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_people')),
    sa.UniqueConstraint('report_id', 'node', name=op.f('uq_report_people_report_id'))
    )
    with op.batch_alter_table('report_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_people_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_report_people_report_id_community_pagerank', ['report_id', 'community', 'pagerank'], unique=False)
        batch_op.create_index('ix_report_people_report_id_opportunity_rank', ['report_id', 'opportunity_rank'], unique=False)
        batch_op.create_index('ix_report_people_report_id_pagerank', ['report_id', 'pagerank'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_people_stakeholder_id'), ['stakeholder_id'], unique=False)



def downgrade():
    with op.batch_alter_table('report_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_people_stakeholder_id'))
        batch_op.drop_index('ix_report_people_report_id_pagerank')
        batch_op.drop_index('ix_report_people_report_id_opportunity_rank')
        batch_op.drop_index('ix_report_people_report_id_community_pagerank')
        batch_op.drop_index(batch_op.f('ix_report_people_account_id'))

    op.drop_table('report_people')
