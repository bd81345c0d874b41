"""a Slack claim's claimer renews it while it works (``kept_at``), so that Slack's retry takes
over only a claim nobody renewed for a while (its claimer died), not one whose claimer is slow

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('slack_claims') as batch:
        batch.add_column(sa.Column('kept_at', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('slack_claims') as batch:
        batch.drop_column('kept_at')
