"""slack tables: owned threads, status and approval messages, delivery claims

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('slack_threads',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('team', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('root_ts', sa.String(length=32), nullable=False),
    sa.Column('started_by', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('slack_status_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('thread_key', sa.String(length=255), nullable=False),
    sa.Column('run_id', sa.String(length=32), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('ts', sa.String(length=32), nullable=False),
    sa.Column('request', sa.Text(), nullable=False),
    sa.Column('requested_by', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('finished', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('slack_status_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_status_messages_thread_key'), ['thread_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_slack_status_messages_requested_by'), ['requested_by'],
                              unique=False)

    op.create_table('slack_approval_messages',
    sa.Column('approval_id', sa.String(length=32), nullable=False),
    sa.Column('thread_key', sa.String(length=255), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('ts', sa.String(length=32), nullable=False),
    sa.Column('closed', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('approval_id')
    )
    with op.batch_alter_table('slack_approval_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_approval_messages_thread_key'), ['thread_key'],
                              unique=False)

    op.create_table('slack_claims',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('claimed_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('slack_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slack_claims_claimed_at'), ['claimed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('slack_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_claims_claimed_at'))
    op.drop_table('slack_claims')
    with op.batch_alter_table('slack_approval_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_approval_messages_thread_key'))
    op.drop_table('slack_approval_messages')
    with op.batch_alter_table('slack_status_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slack_status_messages_requested_by'))
        batch_op.drop_index(batch_op.f('ix_slack_status_messages_thread_key'))
    op.drop_table('slack_status_messages')
    op.drop_table('slack_threads')
