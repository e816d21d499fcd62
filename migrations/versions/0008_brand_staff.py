"""one brand_staff table with a role, instead of brand_managers and brand_analysts

Revision ID: 0008_brand_staff
Revises: 0007_stakeholder_names_interests
Create Date: 2026-12-04 22:10:00

The two tables had the same shape; appointments are copied with their role and dates.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_brand_staff'
down_revision = '0007_stakeholder_names_interests'
branch_labels = None
depends_on = None

_ROLES = {'manager': 'brand_managers', 'analyst': 'brand_analysts'}


def _appointment_table(name):
    op.create_table(name,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f(f'fk_{name}_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f(f'fk_{name}_brand_id_brands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
    sa.UniqueConstraint('brand_id', 'account_id', name=op.f(f'uq_{name}_brand_id'))
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{name}_account_id'), ['account_id'], unique=False)


def upgrade():
    op.create_table('brand_staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('manager', 'analyst', name='staffrole', native_enum=False, length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_brand_staff_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_brand_staff_brand_id_brands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_brand_staff')),
    sa.UniqueConstraint('brand_id', 'account_id', 'role', name=op.f('uq_brand_staff_brand_id'))
    )
    with op.batch_alter_table('brand_staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_brand_staff_account_id'), ['account_id'], unique=False)
    for role, table in _ROLES.items():
        op.execute(f"INSERT INTO brand_staff (brand_id, account_id, role, created_at) "
                   f"SELECT brand_id, account_id, '{role}', created_at FROM {table} ORDER BY id")
    for table in _ROLES.values():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_account_id'))
        op.drop_table(table)


def downgrade():
    for role, table in _ROLES.items():
        _appointment_table(table)
        op.execute(f"INSERT INTO {table} (brand_id, account_id, created_at) "
                   f"SELECT brand_id, account_id, created_at FROM brand_staff WHERE role = '{role}' ORDER BY id")
    with op.batch_alter_table('brand_staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_brand_staff_account_id'))
    op.drop_table('brand_staff')
