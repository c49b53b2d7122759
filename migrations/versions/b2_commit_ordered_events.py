"""commit-ordered event ids

Revision ID: b2_commit_ordered_events
Revises: b1_company_timezone
Create Date: 2026-11-30 23:40:00.000000

Add `event_counter`, the one row event ids are now claimed from at commit
(everfresh/eventlog/models.py), so that ids follow commit order across every company and a
stream of all companies can resume by id without missing an event. The counter starts after
every id handed out so far, pruned ones included, so no id is ever given twice.

Written by hand; it imports no application code.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b2_commit_ordered_events'
down_revision = '7542d4a2519f'
branch_labels = None
depends_on = None


def _last_id_handed_out(bind) -> int:
    largest = bind.execute(sa.text('SELECT COALESCE(MAX(id), 0) FROM events')).scalar_one()
    if bind.dialect.name == 'postgresql':
        sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence('events', 'id')")).scalar()
        if sequence is not None:
            row = bind.execute(sa.text(f'SELECT last_value, is_called FROM {sequence}')).one()
            return max(largest, row.last_value if row.is_called else 0)
    elif sa.inspect(bind).has_table('sqlite_sequence'):
        counted = bind.execute(
            sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
        ).scalar()
        return max(largest, counted or 0)
    return largest


def upgrade():
    bind = op.get_bind()
    # A database made by `db.create_all()` may already hold this table, made from the models.
    if not sa.inspect(bind).has_table('event_counter'):
        op.create_table(
            'event_counter',
            sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
            sa.Column('last_event_id', sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint('id'),
        )
    if bind.execute(sa.text('SELECT COUNT(*) FROM event_counter')).scalar_one() == 0:
        bind.execute(
            sa.text('INSERT INTO event_counter (id, last_event_id) VALUES (1, :last)'),
            {'last': _last_id_handed_out(bind)},
        )


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        # Ids handed out from the counter must not come again from the old sequence.
        sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence('events', 'id')")).scalar()
        last = bind.execute(sa.text('SELECT last_event_id FROM event_counter')).scalar()
        if sequence is not None and last:
            bind.execute(sa.text('SELECT setval(:sequence, :last)'), {'sequence': sequence, 'last': last})
    op.drop_table('event_counter')
