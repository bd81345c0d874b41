"""approvals remember their run; node results keep each package attempt's record

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
    # batch mode: SQLite cannot ALTER TABLE ADD COLUMN inside Alembic's usual path
    with op.batch_alter_table('approvals') as batch:
        batch.add_column(sa.Column('run_id', sa.String(length=32), nullable=True))
    with op.batch_alter_table('node_results') as batch:
        batch.add_column(sa.Column('attempt_log', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('node_results') as batch:
        batch.drop_column('attempt_log')
    with op.batch_alter_table('approvals') as batch:
        batch.drop_column('run_id')
