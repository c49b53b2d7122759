"""partitioned event log

Revision ID: b4_partitioned_event_log
Revises: b3_sessions_valid_after
Create Date: 2026-12-01 00:30:00.000000

On PostgreSQL the event log becomes a table partitioned by UTC day of `created_at`, with a
default partition for days that have none, so that pruning drops whole days instead of
deleting rows (everfresh/eventlog/partitions.py). PostgreSQL wants the partition key in the
primary key, which becomes (id, created_at) on both databases; ids still come only from
`event_counter`, which this leaves as it is. Rows are copied across with their ids.

Written by hand; it imports no application code.
"""
from datetime import UTC, datetime, time, timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b4_partitioned_event_log'
down_revision = 'b3_sessions_valid_after'
branch_labels = None
depends_on = None

# everfresh.timestamps.UTCDateTime stores this type; it only converts values in Python.
UTCDateTime = sa.DateTime(timezone=True)
COLUMNS = 'id, company_id, sequence, type, payload, created_at'
# Partitions made ahead of today, as everfresh/eventlog/partitions.py keeps them.
DAYS_AHEAD = 3


def _columns(id_autoincrement):
    return [
        sa.Column(
            'id',
            sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
            autoincrement=id_autoincrement,
            nullable=False,
        ),
        sa.Column('company_id', sa.String(length=40), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id']),
    ]


def _move_aside(bind, new_name):
    # Index and constraint names are per schema, and the new table takes the old ones.
    op.drop_index('ix_events_company_id_id', table_name='events')
    op.drop_index('ix_events_created_at', table_name='events')
    op.rename_table('events', new_name)
    if bind.dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE {new_name} DROP CONSTRAINT events_pkey')


def _create_indexes():
    op.create_index('ix_events_company_id_id', 'events', ['company_id', 'id'])
    op.create_index('ix_events_created_at', 'events', ['created_at'])


def _is_partitioned(bind):
    if bind.dialect.name == 'postgresql':
        kind = bind.execute(sa.text("SELECT relkind FROM pg_class WHERE oid = 'events'::regclass"))
        return kind.scalar_one() == 'p'
    key = sa.inspect(bind).get_pk_constraint('events')['constrained_columns']
    return key == ['id', 'created_at']


def _day_partition(day):
    start = datetime.combine(day, time(), tzinfo=UTC)
    end = start + timedelta(days=1)
    op.execute(
        f'CREATE TABLE IF NOT EXISTS events_p{day:%Y%m%d} PARTITION OF events '
        f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
    )


def upgrade():
    bind = op.get_bind()
    # A database made by `db.create_all()` is adopted at the first revision (see
    # everfresh/database.py) and may already hold this table, made from today's models.
    if _is_partitioned(bind):
        return
    postgres = bind.dialect.name == 'postgresql'
    if postgres:
        # The app's connections stop statements after seconds; a large log takes longer to copy.
        op.execute('SET LOCAL statement_timeout = 0')
    _move_aside(bind, 'events_unpartitioned')
    options = {'postgresql_partition_by': 'RANGE (created_at)'} if postgres else {}
    op.create_table(
        'events',
        *_columns(id_autoincrement=False),
        sa.PrimaryKeyConstraint('id', 'created_at'),
        **options,
    )
    _create_indexes()
    if postgres:
        op.execute('CREATE TABLE events_default PARTITION OF events DEFAULT')
        today = datetime.now(UTC).date()
        days = bind.execute(
            sa.text(
                "SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM events_unpartitioned"
            )
        ).scalars()
        for day in sorted({*days, *(today + timedelta(days=n) for n in range(DAYS_AHEAD + 1))}):
            _day_partition(day)
    op.execute(f'INSERT INTO events ({COLUMNS}) SELECT {COLUMNS} FROM events_unpartitioned')
    op.drop_table('events_unpartitioned')


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute('SET LOCAL statement_timeout = 0')
    _move_aside(bind, 'events_partitioned')
    op.create_table(
        'events',
        *_columns(id_autoincrement=True),
        sa.PrimaryKeyConstraint('id'),
        sqlite_autoincrement=True,
    )
    _create_indexes()
    op.execute(f'INSERT INTO events ({COLUMNS}) SELECT {COLUMNS} FROM events_partitioned')
    # Dropping the partitioned table drops its partitions with it.
    op.drop_table('events_partitioned')
    # Ids come from the table again: carry on after every id the counter handed out.
    last = bind.execute(sa.text('SELECT COALESCE(MAX(last_event_id), 0) FROM event_counter'))
    last = last.scalar_one()
    if not last:
        return
    if bind.dialect.name == 'postgresql':
        bind.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('events', 'id'), :last)"),
            {'last': last},
        )
    else:
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'events'"))
        bind.execute(
            sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', :last)"),
            {'last': last},
        )
