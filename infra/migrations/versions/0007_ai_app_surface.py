"""the Slack AI-app surface: answer messages (to take feedback on them), feedback votes (one
per person and answer), and assistant threads (opened in Slack's side pane)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'slack_answers',
        sa.Column('run_id', sa.String(length=32), nullable=False),
        sa.Column('thread_key', sa.String(length=255), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('ts', sa.String(length=32), nullable=False),
        sa.Column('requested_by', sa.String(length=32), nullable=True),
        sa.Column('answered_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('run_id'),
    )
    op.create_table(
        'slack_answer_feedback',
        sa.Column('run_id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('vote', sa.String(length=8), nullable=False),
        sa.Column('at', sa.Float(), nullable=False),
        sa.Column('thread_key', sa.String(length=255), nullable=False),
        sa.Column('plan_id', sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint('run_id', 'user_id'),
    )
    op.create_table(
        'slack_assistant_threads',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('thread_ts', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=True),
        sa.Column('context_channel', sa.String(length=32), nullable=True),
        sa.Column('titled', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )


def downgrade() -> None:
    op.drop_table('slack_assistant_threads')
    op.drop_table('slack_answer_feedback')
    op.drop_table('slack_answers')
