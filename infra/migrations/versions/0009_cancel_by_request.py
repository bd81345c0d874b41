"""a status message records the key of the request it shows, so its Cancel stops that
request's run (or drops it from the queue) and never the run of another request

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('slack_status_messages') as batch:
        batch.add_column(sa.Column('request_key', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('slack_status_messages') as batch:
        batch.drop_column('request_key')
