"""slash commands: recorded before Slack is answered, so that one whose process died after
the answer is still run (by the next process's recovery pass)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'slack_commands',
        sa.Column('key', sa.String(length=32), nullable=False),
        sa.Column('team', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('channel_name', sa.String(length=255), nullable=True),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('response_url', sa.Text(), nullable=True),
        sa.Column('received_at', sa.Float(), nullable=False),
        sa.Column('taken_at', sa.Float(), nullable=False),
        sa.Column('root_ts', sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_index('ix_slack_commands_taken_at', 'slack_commands', ['taken_at'])


def downgrade() -> None:
    op.drop_index('ix_slack_commands_taken_at', table_name='slack_commands')
    op.drop_table('slack_commands')
