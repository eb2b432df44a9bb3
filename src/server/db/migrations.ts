/**
 * The server's schema, as ordered migrations applied once each (recorded in
 * `wmill_migration`). The same SQL runs on PGlite and PostgreSQL. Several processes may start
 * against one PostgreSQL at once (`wmill serve` + `wmill worker`): an advisory lock makes
 * them apply migrations one at a time.
 *
 * Jobs live in one table with a `status` column (queued/running/success/failure/canceled)
 * and a partial index on the queued ones, instead of Windmill's queue/completed table split:
 * same pull query shape (`FOR UPDATE SKIP LOCKED`), fewer moving parts.
 */
import type { Db } from './db.js';

export const MIGRATIONS: string[] = [
  `
  CREATE TABLE instance (
    key text PRIMARY KEY,
    value text NOT NULL
  );
  CREATE TABLE workspace (
    id text PRIMARY KEY,
    name text NOT NULL,
    encryption_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE account (
    email text PRIMARY KEY,
    super_admin boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE member (
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    email text NOT NULL REFERENCES account(email) ON DELETE CASCADE,
    username text NOT NULL,
    is_admin boolean NOT NULL DEFAULT false,
    operator boolean NOT NULL DEFAULT false,
    groups json NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, email),
    UNIQUE (workspace_id, username)
  );
  CREATE TABLE token (
    hash text PRIMARY KEY,
    prefix text NOT NULL,
    email text NOT NULL REFERENCES account(email) ON DELETE CASCADE,
    label text,
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE folder (
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    name text NOT NULL,
    display_name text NOT NULL,
    summary text,
    owners json NOT NULL DEFAULT '[]',
    extra_perms json NOT NULL DEFAULT '{}',
    PRIMARY KEY (workspace_id, name)
  );
  CREATE TABLE script (
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    hash text NOT NULL,
    path text NOT NULL,
    parent_hashes json NOT NULL DEFAULT '[]',
    summary text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    content text NOT NULL,
    language text NOT NULL,
    kind text NOT NULL DEFAULT 'script',
    schema json,
    lock text,
    lock_error_logs text,
    settings json NOT NULL DEFAULT '{}',
    archived boolean NOT NULL DEFAULT false,
    deleted boolean NOT NULL DEFAULT false,
    draft_only boolean NOT NULL DEFAULT false,
    extra_perms json NOT NULL DEFAULT '{}',
    deployment_msg text,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    seq bigserial,
    PRIMARY KEY (workspace_id, hash)
  );
  CREATE INDEX script_path ON script (workspace_id, path, seq DESC);
  CREATE TABLE flow (
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    path text NOT NULL,
    summary text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    value json NOT NULL,
    schema json,
    settings json NOT NULL DEFAULT '{}',
    archived boolean NOT NULL DEFAULT false,
    extra_perms json NOT NULL DEFAULT '{}',
    edited_by text NOT NULL,
    edited_at timestamptz NOT NULL DEFAULT now(),
    version_id bigint NOT NULL,
    PRIMARY KEY (workspace_id, path)
  );
  CREATE TABLE flow_version (
    id bigserial PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    path text NOT NULL,
    body json NOT NULL,
    deployment_msg text,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX flow_version_path ON flow_version (workspace_id, path, id DESC);
  CREATE TABLE resource_type (
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    name text NOT NULL,
    body json NOT NULL,
    PRIMARY KEY (workspace_id, name)
  );
  CREATE TABLE resource (
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    path text NOT NULL,
    resource_type text NOT NULL,
    value json,
    description text,
    extra json NOT NULL DEFAULT '{}',
    PRIMARY KEY (workspace_id, path)
  );
  CREATE TABLE variable (
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    path text NOT NULL,
    value text NOT NULL,
    is_secret boolean NOT NULL DEFAULT false,
    description text NOT NULL DEFAULT '',
    extra json NOT NULL DEFAULT '{}',
    PRIMARY KEY (workspace_id, path)
  );
  CREATE TABLE schedule (
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    path text NOT NULL,
    body json NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    edited_by text NOT NULL,
    edited_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, path)
  );
  CREATE TABLE draft (
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    kind text NOT NULL,
    path text NOT NULL,
    email text NOT NULL,
    value json NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (workspace_id, kind, path, email)
  );
  CREATE TABLE temp_script (
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    hash text NOT NULL,
    content text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, hash)
  );
  CREATE TABLE job (
    id uuid PRIMARY KEY,
    workspace_id text NOT NULL,
    kind text NOT NULL,
    path text NOT NULL,
    language text NOT NULL,
    content text NOT NULL,
    script_hash text,
    args json NOT NULL,
    spec json NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    created_by text NOT NULL,
    permissioned_as text NOT NULL,
    tag text,
    scheduled_for timestamptz NOT NULL DEFAULT clock_timestamp(),
    schedule_path text,
    priority integer,
    status text NOT NULL DEFAULT 'queued',
    started_at timestamptz,
    worker text,
    ping timestamptz,
    runs integer NOT NULL DEFAULT 0,
    completed_at timestamptz,
    duration_ms bigint,
    result json,
    canceled_by text,
    canceled_reason text,
    cancel_requested boolean NOT NULL DEFAULT false
  );
  CREATE INDEX job_queue ON job (priority DESC NULLS LAST, scheduled_for) WHERE status = 'queued';
  CREATE INDEX job_running ON job (ping) WHERE status = 'running';
  CREATE INDEX job_ws ON job (workspace_id, created_at DESC);
  CREATE INDEX job_schedule ON job (workspace_id, schedule_path) WHERE schedule_path IS NOT NULL AND status = 'queued';
  CREATE TABLE job_logs (
    job_id uuid PRIMARY KEY,
    logs text NOT NULL DEFAULT ''
  );
  CREATE TABLE job_state (
    workspace_id text NOT NULL,
    path text NOT NULL,
    value json,
    PRIMARY KEY (workspace_id, path)
  );
  `,
  `
  ALTER TABLE job ADD COLUMN flow_status json;
  CREATE TABLE resume_job (
    seq bigserial PRIMARY KEY,
    job_id uuid NOT NULL,
    resume_id bigint NOT NULL,
    approved boolean NOT NULL,
    payload json,
    approver text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (job_id, resume_id)
  );
  `,
  `
  ALTER TABLE job ADD COLUMN wac_status json;
  ALTER TABLE job ADD COLUMN suspend integer NOT NULL DEFAULT 0;
  ALTER TABLE job ADD COLUMN suspend_until timestamptz;
  `,
  // 4: workflow step() results, one row each (first write wins), so the fast path is one insert;
  // task result cache (cache_ttl); concurrency keys (concurrency_limit).
  // No foreign key (it costs a lookup per step): rows are written only for running jobs.
  `
  CREATE TABLE wac_step (
    job_id uuid NOT NULL,
    key text NOT NULL,
    value json,
    PRIMARY KEY (job_id, key)
  );
  CREATE TABLE result_cache (
    workspace_id text NOT NULL,
    key text NOT NULL,
    result json,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, key)
  );
  ALTER TABLE job ADD COLUMN concurrency_key text;
  CREATE INDEX job_concurrency ON job (workspace_id, concurrency_key, started_at) WHERE concurrency_key IS NOT NULL;
  `,
  // 5: sync pushes (src/server/sync-apply.ts): one row per push id, so a client that lost
  // the answer learns the outcome; a plan too large for one request is staged in parts (invisible)
  // until its commit applies it in one transaction.
  `
  CREATE TABLE sync_push (
    workspace_id text NOT NULL,
    id uuid NOT NULL,
    created_by text NOT NULL,
    state text NOT NULL,
    applied integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    touched_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id)
  );
  CREATE TABLE sync_push_part (
    workspace_id text NOT NULL,
    push_id uuid NOT NULL,
    seq integer NOT NULL,
    data text NOT NULL,
    PRIMARY KEY (workspace_id, push_id, seq),
    FOREIGN KEY (workspace_id, push_id) REFERENCES sync_push (workspace_id, id) ON DELETE CASCADE
  );
  `,
  // 6: a job's progress (set_progress, 0-99, never going back) and flow user states (per root flow job).
  `
  ALTER TABLE job ADD COLUMN progress integer;
  CREATE TABLE flow_user_state (
    job_id uuid NOT NULL,
    key text NOT NULL,
    value json,
    PRIMARY KEY (job_id, key)
  );
  `,
  // 7: triggers of every kind (src/server/triggers.ts): one table, the kind a column, the
  // configuration as sent (key order kept, so an export gives back the bytes a client pushed).
  // HTTP routes carry their lookup key (method + route with parameters as '*').
  `
  CREATE TABLE triggers (
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    kind text NOT NULL,
    path text NOT NULL,
    body json NOT NULL,
    edited_by text NOT NULL,
    email text NOT NULL,
    permissioned_as text NOT NULL,
    edited_at timestamptz NOT NULL DEFAULT now(),
    route_key text,
    PRIMARY KEY (workspace_id, kind, path)
  );
  CREATE INDEX triggers_route ON triggers (route_key) WHERE route_key IS NOT NULL;
  `,
  // 8: the worker registry (`workers/list`): each serve-with-workers and each `wmill worker` pings its row.
  `
  CREATE TABLE worker_ping (
    worker text PRIMARY KEY,
    worker_instance text NOT NULL,
    worker_group text NOT NULL DEFAULT 'default',
    custom_tags json,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    ping_at timestamptz NOT NULL DEFAULT clock_timestamp()
  );
  `,
  // 9: apps (low-code and raw): the deployed app per path, every deploy an `app_version` row
  // (value, and a raw app's frontend bundle); `secret` names its public URL.
  `
  CREATE TABLE app (
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    path text NOT NULL,
    id bigserial,
    summary text NOT NULL DEFAULT '',
    policy json NOT NULL DEFAULT '{}',
    raw_app boolean NOT NULL DEFAULT false,
    custom_path text,
    secret text NOT NULL,
    extra_perms json NOT NULL DEFAULT '{}',
    version_id bigint NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    edited_by text NOT NULL,
    edited_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, path),
    UNIQUE (secret)
  );
  CREATE TABLE app_version (
    id bigserial PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    path text NOT NULL,
    app_id bigint NOT NULL,
    value json NOT NULL,
    raw_app boolean NOT NULL DEFAULT false,
    bundle_js text,
    bundle_css text,
    deployment_msg text,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX app_version_by_app ON app_version (workspace_id, app_id, id);
  `,
  // 10: users, groups, forks and admin (src/server/users.ts, groups.ts, forks.ts, admin.ts):
  // passwords for /auth/login, disabled members, groups with a summary and their admins
  // (extra_perms), workspace settings and fork parents, the fork's base digests (what merge
  // compares against), an audit log of writes, a trash of deleted items, workspace dependencies.
  `
  ALTER TABLE account ADD COLUMN password_hash text;
  ALTER TABLE account ADD COLUMN name text;
  ALTER TABLE member ADD COLUMN disabled boolean NOT NULL DEFAULT false;
  ALTER TABLE workspace ADD COLUMN parent_workspace_id text;
  ALTER TABLE workspace ADD COLUMN settings json NOT NULL DEFAULT '{}';
  CREATE TABLE usr_group (
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    name text NOT NULL,
    summary text,
    extra_perms json NOT NULL DEFAULT '{}',
    PRIMARY KEY (workspace_id, name)
  );
  CREATE TABLE fork_base (
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    kind text NOT NULL,
    path text NOT NULL,
    digest text NOT NULL,
    PRIMARY KEY (workspace_id, kind, path)
  );
  CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    workspace_id text NOT NULL,
    timestamp timestamptz NOT NULL DEFAULT clock_timestamp(),
    username text NOT NULL,
    operation text NOT NULL,
    action_kind text NOT NULL,
    resource text,
    parameters json
  );
  CREATE INDEX audit_log_ws ON audit_log (workspace_id, id DESC);
  CREATE TABLE trash (
    id bigserial PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    item_kind text NOT NULL,
    item_path text NOT NULL,
    item_data json NOT NULL,
    deleted_by text NOT NULL,
    deleted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at timestamptz NOT NULL DEFAULT clock_timestamp() + interval '3 days'
  );
  CREATE TABLE workspace_dependencies (
    id bigserial PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    language text NOT NULL,
    name text,
    content text NOT NULL,
    description text,
    archived boolean NOT NULL DEFAULT false,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
  );
  `,
];

/** Apply the migrations this database has not seen yet. */
export async function migrate(db: Db): Promise<void> {
  await db.tx(async (q) => {
    if (db.kind === 'postgres') await q.query('SELECT pg_advisory_xact_lock(727274)');
    await q.query('CREATE TABLE IF NOT EXISTS wmill_migration (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await q.query<{ version: number }>('SELECT version FROM wmill_migration')).map((r) => Number(r.version)));
    for (let i = 0; i < MIGRATIONS.length; i++) {
      if (done.has(i + 1)) continue;
      for (const stmt of splitStatements(MIGRATIONS[i]!)) await q.query(stmt);
      await q.query('INSERT INTO wmill_migration (version) VALUES ($1)', [i + 1]);
    }
  });
}

function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}
