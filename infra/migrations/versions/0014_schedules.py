"""schedules: who made which schedule where (slack_schedules), one row per firing
(schedule_ticks), and APScheduler 4's own tables (tasks, schedules, jobs, job_results, metadata),
made from its SQLAlchemy data store's definitions so that a role that may only read and write
rows runs it

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def _apscheduler_tables() -> sa.MetaData:
    from apscheduler.datastores.sqlalchemy import SQLAlchemyDataStore

    return SQLAlchemyDataStore(op.get_bind().engine).get_table_definitions()


def upgrade() -> None:
    op.create_table(
        'slack_schedules',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('team', sa.String(length=32), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('user', sa.String(length=32), nullable=False),
        sa.Column('request', sa.Text(), nullable=False),
        sa.Column('spec', sa.Text(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('cancelled_at', sa.Float(), nullable=True),
        sa.Column('cancelled_by', sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_slack_schedules_channel', 'slack_schedules', ['channel'])
    op.create_index('ix_slack_schedules_user', 'slack_schedules', ['user'])
    op.create_table(
        'schedule_ticks',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('schedule_id', sa.String(length=32), nullable=False),
        sa.Column('fire_time', sa.Float(), nullable=False),
        sa.Column('claimed_at', sa.Float(), nullable=False),
        sa.Column('missed', sa.Integer(), nullable=False),
        sa.Column('root_ts', sa.String(length=32), nullable=True),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_schedule_ticks_schedule_id', 'schedule_ticks', ['schedule_id'])
    aps = _apscheduler_tables()
    aps.create_all(op.get_bind())
    op.get_bind().execute(aps.tables['metadata'].insert().values(schema_version=1))


def downgrade() -> None:
    _apscheduler_tables().drop_all(op.get_bind())
    op.drop_table('schedule_ticks')
    op.drop_table('slack_schedules')
