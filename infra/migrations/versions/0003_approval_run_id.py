"""approvals remember the run that asked, so a decision is announced without reading the thread

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
    with op.batch_alter_table('approvals') as batch:
        batch.add_column(sa.Column('run_id', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('approvals') as batch:
        batch.drop_column('run_id')
