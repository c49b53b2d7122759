"""customer address, company currency, active catalogue rows

Revision ID: c1_customer_address_currency
Revises: b4_partitioned_event_log
Create Date: 2026-12-08 01:00:00.000000

Give customers an address and access notes, companies the ISO 4217 currency their prices are
in (GBP for the companies that exist, as the default), and customers, services and staff
members an `active` flag: every existing row stays active.

Written by hand; it imports no application code.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c1_customer_address_currency'
down_revision = 'b4_partitioned_event_log'
branch_labels = None
depends_on = None

ADDRESS = [
    ('address_line1', 200),
    ('address_line2', 200),
    ('city', 100),
    ('postcode', 16),
    ('access_notes', 2000),
]
CATALOGUE = ('customers', 'services', 'staff')


def _columns(table):
    return {column['name'] for column in sa.inspect(op.get_bind()).get_columns(table)}


# Plain ALTER TABLE on both databases, not a batch: on SQLite a batch copies the table and
# drops the old one, which its foreign keys refuse once other tables point at its rows.
# (SQLite adds a column with a constant default in place, and drops one since 3.35.)


def upgrade():
    # A database made by `db.create_all()` is adopted at the first revision (see
    # everfresh/database.py) and may already hold these columns, made from today's models.
    if 'currency' not in _columns('companies'):
        # The server default fills the existing rows, so the column can be NOT NULL at once.
        op.add_column(
            'companies',
            sa.Column('currency', sa.String(length=3), nullable=False, server_default='GBP'),
        )
    if 'city' not in _columns('customers'):
        for name, length in ADDRESS:
            op.add_column('customers', sa.Column(name, sa.String(length=length), nullable=True))
    for table in CATALOGUE:
        if 'active' not in _columns(table):
            op.add_column(
                table, sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true())
            )


def downgrade():
    for table in CATALOGUE:
        op.drop_column(table, 'active')
    for name, _length in reversed(ADDRESS):
        op.drop_column('customers', name)
    op.drop_column('companies', 'currency')
