"""alert group threads: the Slack thread each Alertmanager alert group opened, claimed before its
root message is posted, and what the thread last said about the group

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'alert_group_threads',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('group_key', sa.Text(), nullable=False),
        sa.Column('route', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('root_ts', sa.String(length=32), nullable=True),
        sa.Column('firing', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('claimed_at', sa.Float(), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('alert_group_threads')
