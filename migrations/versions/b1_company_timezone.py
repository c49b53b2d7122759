"""company timezone

Revision ID: b1_company_timezone
Revises: 7542d4a2519f
Create Date: 2026-11-30 23:30:00.000000

Give every company the IANA time zone its bookings' dates and times are read in
(everfresh/companies/timezones.py). Companies that exist already work in UTC, as every
booking did before.

Written by hand so that it imports no application code.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1_company_timezone'
down_revision = '7542d4a2519f'
branch_labels = None
depends_on = None


def upgrade():
    # A database made by `db.create_all()` is adopted at the first revision (see
    # everfresh/database.py) and may already hold this column, made from today's models.
    columns = {column['name'] for column in sa.inspect(op.get_bind()).get_columns('companies')}
    if 'timezone' in columns:
        return
    # The server default fills the existing rows, so the column can be NOT NULL at once.
    with op.batch_alter_table('companies') as batch_op:
        batch_op.add_column(
            sa.Column('timezone', sa.String(length=64), nullable=False, server_default='UTC')
        )


def downgrade():
    with op.batch_alter_table('companies') as batch_op:
        batch_op.drop_column('timezone')
