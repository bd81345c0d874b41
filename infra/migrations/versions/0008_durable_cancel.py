"""the thread's lease row records a cancel, so the replica running the thread stops its run
even if the signal that tells it at once was lost, and how many times its run was taken
over, so every replica gives up on a run that keeps failing, across restarts

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
        batch.add_column(sa.Column('takeovers', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('thread_leases') as batch:
        batch.drop_column('takeovers')
        batch.drop_column('cancel_requested_at')
