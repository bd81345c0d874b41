"""a cancel is recorded on the thread's lease row, so the replica running the thread stops
its run even if the signal that tells it at once was lost

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('thread_leases') as batch:
        batch.add_column(sa.Column('cancel_requested_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('thread_leases') as batch:
        batch.drop_column('cancel_requested_at')
