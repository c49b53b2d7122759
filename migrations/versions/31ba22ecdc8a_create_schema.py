"""create schema

Revision ID: 31ba22ecdc8a
Revises:
Create Date: 2026-11-26 05:07:11.171346

Create every table of the first release: companies, their customers, services and staff,
the users who log in, bookings with their idempotency keys, and the event log.

Written out by hand from `flask db migrate` so that it never imports application code
(models change; a revision must not). Portable: the same operations run on SQLite and
PostgreSQL.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '31ba22ecdc8a'
down_revision = None
branch_labels = None
depends_on = None

# everfresh.timestamps.UTCDateTime stores this type; it only converts values in Python.
UTCDateTime = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        'companies',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('last_booking_number', sa.Integer(), nullable=False),
        sa.Column('last_event_sequence', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )

    op.create_table(
        'customers',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('company_id', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('phone', sa.String(length=40), nullable=True),
        sa.Column('created_at', UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_customers_company_id', 'customers', ['company_id'])

    op.create_table(
        'services',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('company_id', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('duration_minutes', sa.Integer(), nullable=False),
        sa.Column('price_cents', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_services_company_id', 'services', ['company_id'])

    op.create_table(
        'users',
        sa.Column('id', sa.String(length=40), nullable=False),
        # Stored lower-cased, so this constraint makes emails unique case-insensitively.
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('password_hash', sa.String(length=256), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('company_id', sa.String(length=40), nullable=True),
        sa.Column('customer_id', sa.String(length=40), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id']),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('email'),
    )
    op.create_index('ix_users_company_id', 'users', ['company_id'])

    op.create_table(
        'staff',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('company_id', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('user_id', sa.String(length=40), nullable=True),
        sa.Column('created_at', UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id'),
    )
    op.create_index('ix_staff_company_id', 'staff', ['company_id'])

    op.create_table(
        'bookings',
        sa.Column('id', sa.String(length=26), nullable=False),
        sa.Column('company_id', sa.String(length=40), nullable=False),
        sa.Column('booking_number', sa.String(length=20), nullable=False),
        sa.Column('customer_id', sa.String(length=40), nullable=False),
        sa.Column('service_id', sa.String(length=40), nullable=False),
        sa.Column('staff_id', sa.String(length=40), nullable=True),
        sa.Column('scheduled_date', sa.Date(), nullable=False),
        sa.Column('scheduled_time_start', sa.Time(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('created_at', UTCDateTime, nullable=False),
        sa.Column('updated_at', UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id']),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id']),
        sa.ForeignKeyConstraint(['service_id'], ['services.id']),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('company_id', 'booking_number', name='uq_bookings_company_number'),
    )
    op.create_index('ix_bookings_company_id_id', 'bookings', ['company_id', 'id'])
    op.create_index('ix_bookings_customer_id', 'bookings', ['customer_id'])

    op.create_table(
        'idempotency_keys',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('user_id', sa.String(length=40), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('request_fingerprint', sa.String(length=64), nullable=False),
        sa.Column('booking_id', sa.String(length=26), nullable=False),
        sa.Column('response_body', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(['booking_id'], ['bookings.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'key', name='uq_idempotency_keys_user_key'),
    )
    op.create_index('ix_idempotency_keys_created_at', 'idempotency_keys', ['created_at'])

    op.create_table(
        'events',
        # BIGSERIAL on PostgreSQL; on SQLite only INTEGER becomes the rowid that
        # AUTOINCREMENT applies to.
        sa.Column(
            'id',
            sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column('company_id', sa.String(length=40), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id']),
        sa.PrimaryKeyConstraint('id'),
        # SQLite would otherwise reuse the ids of pruned rows, and clients replay by id.
        sqlite_autoincrement=True,
    )
    op.create_index('ix_events_company_id_id', 'events', ['company_id', 'id'])
    op.create_index('ix_events_created_at', 'events', ['created_at'])


def downgrade():
    # Dropping a table drops its indexes too; children go before the tables they reference.
    for table in (
        'events',
        'idempotency_keys',
        'bookings',
        'staff',
        'users',
        'services',
        'customers',
        'companies',
    ):
        op.drop_table(table)
