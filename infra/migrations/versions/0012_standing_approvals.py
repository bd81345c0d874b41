"""standing approvals: "Approve for this thread" grants, which approve later calls of one red
tool in one thread asked for by one requester until they expire or are revoked

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'standing_approvals',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('thread_id', sa.String(length=255), nullable=False),
        sa.Column('tool', sa.String(length=128), nullable=False),
        sa.Column('requester', sa.String(length=255), nullable=False),
        sa.Column('granted_by', sa.String(length=255), nullable=False),
        sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('approval_id', sa.String(length=32), nullable=False),
        sa.Column('revoked_by', sa.String(length=255), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_standing_approvals_scope', 'standing_approvals', ['thread_id', 'tool', 'requester'])
    op.create_index('ix_standing_approvals_requester', 'standing_approvals', ['requester'])
    op.create_index(op.f('ix_standing_approvals_granted_by'), 'standing_approvals', ['granted_by'])


def downgrade() -> None:
    op.drop_index(op.f('ix_standing_approvals_granted_by'), table_name='standing_approvals')
    op.drop_index('ix_standing_approvals_requester', table_name='standing_approvals')
    op.drop_index('ix_standing_approvals_scope', table_name='standing_approvals')
    op.drop_table('standing_approvals')
