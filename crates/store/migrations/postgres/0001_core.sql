-- Core schema: organizations, members, accounts, audit. Kept column-for-column equal to
-- ../sqlite/0001_core.sql (a test compares them).

CREATE TABLE orgs (
    id BIGINT PRIMARY KEY,
    parent_id BIGINT REFERENCES orgs(id),
    path TEXT COLLATE "C" NOT NULL UNIQUE,
    depth BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    branch_type TEXT NOT NULL DEFAULT 'regular',
    sector TEXT NOT NULL DEFAULT 'general',
    established_on DATE NOT NULL,
    dissolved_on DATE,
    term_start DATE,
    term_end DATE,
    direct_members BIGINT NOT NULL DEFAULT 0,
    direct_full BIGINT NOT NULL DEFAULT 0,
    subtree_members BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX orgs_parent ON orgs(parent_id);

CREATE TABLE org_officers (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    member_id BIGINT NOT NULL,
    post TEXT NOT NULL,
    since DATE NOT NULL,
    PRIMARY KEY (org_id, member_id)
);
CREATE INDEX org_officers_member ON org_officers(member_id);

CREATE TABLE org_events (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX org_events_org ON org_events(org_id, id);

CREATE TABLE members (
    id BIGINT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT COLLATE "C" NOT NULL,
    group_id BIGINT REFERENCES orgs(id),
    name TEXT NOT NULL,
    gender TEXT NOT NULL,
    ethnicity TEXT NOT NULL,
    birth_date DATE NOT NULL,
    education TEXT,
    id_number_enc BYTEA NOT NULL,
    id_number_bi BYTEA NOT NULL,
    id_number_masked TEXT NOT NULL,
    phone_enc BYTEA,
    phone_bi BYTEA,
    phone_masked TEXT,
    address_enc BYTEA,
    work_unit TEXT,
    post TEXT,
    joined_on DATE NOT NULL,
    full_member_on DATE,
    category TEXT NOT NULL,
    status TEXT NOT NULL,
    offline BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX members_id_number_bi ON members(id_number_bi);
CREATE INDEX members_phone_bi ON members(phone_bi);
-- (org_path, name, id): a subtree is a range, and the roster's order comes straight from it.
CREATE INDEX members_org_path ON members(org_path, name, id);
-- (name, org_path): a page sorted by name in a large subtree walks this index alone.
CREATE INDEX members_name ON members(name, org_path);

CREATE TABLE member_history (
    id BIGSERIAL PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members(id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX member_history_member ON member_history(member_id, id);

CREATE TABLE member_orgs (
    id BIGSERIAL PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    from_on DATE NOT NULL,
    to_on DATE
);
CREATE INDEX member_orgs_member ON member_orgs(member_id, id);

CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    phone_enc BYTEA,
    phone_bi BYTEA,
    phone_masked TEXT,
    password_hash TEXT NOT NULL,
    member_id BIGINT REFERENCES members(id),
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until TEXT,
    password_changed_at TEXT NOT NULL,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX users_phone_bi ON users(phone_bi);
CREATE UNIQUE INDEX users_member ON users(member_id);

CREATE TABLE grants (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    org_id BIGINT REFERENCES orgs(id),
    created_at TEXT NOT NULL
);
CREATE INDEX grants_user ON grants(user_id);

CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ip TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id BIGINT,
    actor TEXT NOT NULL,
    ip TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    result TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_action ON audit_log(action, seq);
CREATE INDEX audit_log_actor ON audit_log(actor, seq);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
