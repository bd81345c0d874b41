"""indexes for the recovery pass every replica runs each second (decided approvals, held
threads); queued requests stay queued until their run is under way (started_at), and have
a key of their own that the run records (SQLite reuses ids)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f('ix_approvals_decided_at'), 'approvals', ['decided_at'], unique=False)
    op.create_index(op.f('ix_thread_leases_holder'), 'thread_leases', ['holder'], unique=False)
    with op.batch_alter_table('queued_requests') as batch:
        batch.add_column(sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('key', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('queued_requests') as batch:
        batch.drop_column('key')
        batch.drop_column('started_at')
    op.drop_index(op.f('ix_thread_leases_holder'), table_name='thread_leases')
    op.drop_index(op.f('ix_approvals_decided_at'), table_name='approvals')
