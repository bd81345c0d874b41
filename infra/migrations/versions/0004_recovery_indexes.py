"""indexes for the recovery pass every replica runs each second: decided approvals, held threads

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f('ix_approvals_decided_at'), 'approvals', ['decided_at'], unique=False)
    op.create_index(op.f('ix_thread_leases_holder'), 'thread_leases', ['holder'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_thread_leases_holder'), table_name='thread_leases')
    op.drop_index(op.f('ix_approvals_decided_at'), table_name='approvals')
