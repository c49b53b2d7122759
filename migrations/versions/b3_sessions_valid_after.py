"""sessions valid after

Revision ID: b3_sessions_valid_after
Revises: b2_commit_ordered_events
Create Date: 2026-11-30 23:40:00.000000

Add users.sessions_valid_after: tokens issued before it are refused (everfresh/auth/tokens.py),
so deactivating a user or ending their sessions voids every token they hold, for good.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3_sessions_valid_after'
down_revision = 'b2_commit_ordered_events'
branch_labels = None
depends_on = None


def upgrade():
    # A database made by `db.create_all()` is adopted at the first revision (see
    # everfresh/database.py) and may already hold this column, made from today's models.
    columns = {column['name'] for column in sa.inspect(op.get_bind()).get_columns('users')}
    if 'sessions_valid_after' in columns:
        return
    # Null for every existing user: their tokens stay valid until something ends them.
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('sessions_valid_after', sa.DateTime(timezone=True)))


def downgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_column('sessions_valid_after')
