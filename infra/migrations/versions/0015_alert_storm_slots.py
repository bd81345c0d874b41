"""alert storm slots: each alert route's storm-limit budget, shared by the replicas (one row per
slot, its last use compared-and-set)

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'alert_storm_slots',
        sa.Column('route', sa.String(length=32), nullable=False),
        sa.Column('slot', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('used_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('route', 'slot'),
    )


def downgrade() -> None:
    op.drop_table('alert_storm_slots')
