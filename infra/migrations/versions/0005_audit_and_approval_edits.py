"""the audit trail (append-only: UPDATE is refused by a trigger, rows are only deleted by
retention), and approvals whose arguments an approver edited before deciding

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

APPEND_ONLY = "audit rows are append-only"


def upgrade() -> None:
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('thread_id', sa.String(length=255), nullable=False),
        sa.Column('run_id', sa.String(length=32), nullable=True),
        sa.Column('actor', sa.String(length=255), nullable=True),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_audit_events_at'), 'audit_events', ['at'], unique=False)
    op.create_index(op.f('ix_audit_events_thread_id'), 'audit_events', ['thread_id'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events "
                   f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END")
    else:
        op.execute("CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$")
        op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")
    with op.batch_alter_table('approvals') as batch:
        batch.add_column(sa.Column('edited_args', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('edited_by', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('edits', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('approvals') as batch:
        batch.drop_column('edits')
        batch.drop_column('edited_at')
        batch.drop_column('edited_by')
        batch.drop_column('edited_args')
    op.execute("DROP TRIGGER IF EXISTS audit_events_append_only" + (
        "" if op.get_bind().dialect.name == 'sqlite' else " ON audit_events"))
    if op.get_bind().dialect.name != 'sqlite':
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    op.drop_index(op.f('ix_audit_events_thread_id'), table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_at'), table_name='audit_events')
    op.drop_table('audit_events')
