"""revoked tokens

Revision ID: 7542d4a2519f
Revises: 31ba22ecdc8a
Create Date: 2026-11-26 05:30:05.369453

Add the denylist of logged-out tokens (everfresh/auth/denylist.py), used when no Redis is
configured: one row per revoked token id, until the token would have expired anyway.

Tidied from `flask db migrate` so that it imports no application code.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7542d4a2519f'
down_revision = '31ba22ecdc8a'
branch_labels = None
depends_on = None

# everfresh.timestamps.UTCDateTime stores this type; it only converts values in Python.
UTCDateTime = sa.DateTime(timezone=True)


def upgrade():
    # A database made by `db.create_all()` is adopted at the first revision (see
    # everfresh/database.py) and may already hold this table, made from today's models.
    if sa.inspect(op.get_bind()).has_table('revoked_tokens'):
        return
    op.create_table(
        'revoked_tokens',
        sa.Column('jti', sa.String(length=64), nullable=False),
        sa.Column('expires_at', UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint('jti'),
    )
    # `flask prune` deletes by expiry.
    op.create_index('ix_revoked_tokens_expires_at', 'revoked_tokens', ['expires_at'])


def downgrade():
    # Dropping the table drops its index too.
    op.drop_table('revoked_tokens')
