"""approvals remember their run; node results keep each package attempt's record; queued requests

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode keeps this portable to SQLite's limited ALTER TABLE (here it is a plain ADD COLUMN)
    with op.batch_alter_table('approvals') as batch:
        batch.add_column(sa.Column('run_id', sa.String(length=32), nullable=True))
    with op.batch_alter_table('node_results') as batch:
        batch.add_column(sa.Column('attempt_log', sa.JSON(), nullable=True))
    op.create_table('queued_requests',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('thread_id', sa.String(length=255), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('requested_by', sa.String(length=255), nullable=True),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_queued_requests_thread_id'), 'queued_requests', ['thread_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_queued_requests_thread_id'), table_name='queued_requests')
    op.drop_table('queued_requests')
    with op.batch_alter_table('node_results') as batch:
        batch.drop_column('attempt_log')
    with op.batch_alter_table('approvals') as batch:
        batch.drop_column('run_id')
