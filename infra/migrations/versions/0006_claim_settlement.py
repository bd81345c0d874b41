"""a Slack claim is settled once its request is queued; an unsettled one left by a process
that died can be taken again by Slack's retry

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('slack_claims') as batch:
        batch.add_column(sa.Column('settled_at', sa.Float(), nullable=True))
    # claims made before this column existed were all followed through
    op.execute("UPDATE slack_claims SET settled_at = claimed_at")


def downgrade() -> None:
    with op.batch_alter_table('slack_claims') as batch:
        batch.drop_column('settled_at')
