"""approval DMs: the direct message each person who may decide on an approval got when it was
asked in a conversation they may not see (a DM with the app, a group DM, a private channel),
claimed once per approval and person

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'slack_approval_dms',
        sa.Column('approval_id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('claimed_at', sa.Float(), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=True),
        sa.Column('ts', sa.String(length=32), nullable=True),
        sa.Column('intro', sa.Text(), nullable=True),
        sa.Column('closed', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint('approval_id', 'user_id'),
    )


def downgrade() -> None:
    op.drop_table('slack_approval_dms')
