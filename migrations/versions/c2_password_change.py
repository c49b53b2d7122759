"""password change

Revision ID: c2_password_change
Revises: c1_customer_address_currency
Create Date: 2026-12-08 01:00:00.000000

Add users.must_change_password, set by an admin's password reset: until the user chooses a
new password every other call of theirs is refused (everfresh/auth/access.py). Add
companies.name_key, the name in NFKC and case-folded, unique, so that two companies never
differ only in case (everfresh/web/display_names.py). Existing companies get their key here;
if two of them differ only in case the upgrade stops and names them, to be renamed first.

Written by hand; it imports no application code.
"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2_password_change'
down_revision = 'c1_customer_address_currency'
branch_labels = None
depends_on = None


def _name_key(name):
    # As everfresh.web.display_names.name_key computes it, copied so the revision never changes.
    return unicodedata.normalize('NFKC', name.casefold())


def _columns(table):
    return {column['name'] for column in sa.inspect(op.get_bind()).get_columns(table)}


def _name_keys(bind, companies):
    # Every company's key, or RuntimeError naming two that would share one. Checked before
    # anything changes: SQLite's DDL is not transactional, so a refusal halfway would leave a
    # column that a second run takes for a finished upgrade.
    keys, owners = {}, {}
    for company_id, name in bind.execute(sa.select(companies.c.id, companies.c.name)):
        key = _name_key(name)
        if key in owners:
            raise RuntimeError(
                f'Companies {owners[key][1]!r} ({owners[key][0]}) and {name!r} ({company_id}) '
                'differ only in case, and company names must now be unique whatever their '
                'case: rename one (PATCH /companies/<id>) with the previous release, then run '
                'init-db again.'
            )
        owners[key] = (company_id, name)
        keys[company_id] = key
    return keys


def upgrade():
    # A database made by `db.create_all()` is adopted at the first revision (see
    # everfresh/database.py) and may already hold these columns, made from today's models.
    # Plain ALTER TABLE throughout, never a batch copy of the table: on SQLite that drops the
    # old table, which foreign keys from bookings and events forbid once rows point at it.
    bind = op.get_bind()
    companies = sa.table(
        'companies', sa.column('id', sa.String), sa.column('name', sa.String),
        sa.column('name_key', sa.String),
    )
    keys = None if 'name_key' in _columns('companies') else _name_keys(bind, companies)
    if 'must_change_password' not in _columns('users'):
        op.add_column(
            'users',
            sa.Column(
                'must_change_password', sa.Boolean(), nullable=False, server_default=sa.false()
            ),
        )
    if keys is None:
        return
    # NOT NULL needs a default for the rows already there; each gets its key just below.
    op.add_column(
        'companies',
        sa.Column('name_key', sa.String(length=400), nullable=False, server_default=''),
    )
    for company_id, key in keys.items():
        bind.execute(
            companies.update().where(companies.c.id == company_id).values(name_key=key)
        )
    if bind.dialect.name != 'sqlite':
        # SQLite cannot drop a column's default without copying the table; there it stays,
        # unused, since every insert names the key.
        op.alter_column('companies', 'name_key', server_default=None)
    op.create_index('uq_companies_name_key', 'companies', ['name_key'], unique=True)


def downgrade():
    op.drop_index('uq_companies_name_key', table_name='companies')
    # SQLite 3.35 and later drop a column in place.
    op.execute('ALTER TABLE companies DROP COLUMN name_key')
    op.execute('ALTER TABLE users DROP COLUMN must_change_password')
