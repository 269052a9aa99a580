-- The raw Segment events the way the old Redshift warehouse held them: the tables the legacy
-- queries of legacy/redshift/ read. The parity harness (`seglog parity`) creates them in the
-- local PostgreSQL's `parity` database and fills them from the fixture's raw log files,
-- every delivery of every event (duplicate messageIds included, as Segment delivered them).
--
--   * one row per delivered line, nothing deduplicated, nothing dropped;
--   * the top-level fields typed: ids and names as VARCHAR, the four times as TIMESTAMP
--     (UTC, without time zone, as Segment's loader wrote them), version as INTEGER;
--   * the nested objects `context`, `properties`, `traits` and `integrations` as their JSON
--     text in VARCHAR(65535) columns (Redshift's widest), read with json_extract_path_text;
--     NULL when the event has no such key or sends null;
--   * web and app share one table (their schema is the same), told apart by source_id (the
--     Segment source id, the folder the file was delivered in); the "procedure" source has
--     a table of its own.
--
-- A top-level field that is not a JSON string (a number, say) is stored as its JSON text, as
-- Spark's reader does for a field declared string. The same DDL runs on Redshift (VARCHAR
-- lengths there count bytes; JSON text of 65535 bytes is Redshift's limit).

drop schema if exists legacy_raw cascade;
create schema legacy_raw;

create table legacy_raw.web_app_events (
    message_id          varchar(256),
    source_id           varchar(64),
    anonymous_id        varchar(256),
    user_id             varchar(256),
    type                varchar(32),
    event               varchar(1024),
    name                varchar(1024),
    category            varchar(1024),
    channel             varchar(64),
    "timestamp"         timestamp,
    original_timestamp  timestamp,
    sent_at             timestamp,
    received_at         timestamp,
    project_id          varchar(256),
    version             integer,
    context             varchar(65535),
    properties          varchar(65535),
    traits              varchar(65535)
);

create table legacy_raw.procedure_events (
    message_id          varchar(256),
    source_id           varchar(64),
    anonymous_id        varchar(256),
    user_id             varchar(256),
    type                varchar(32),
    event               varchar(1024),
    name                varchar(1024),
    category            varchar(1024),
    "timestamp"         timestamp,
    received_at         timestamp,
    version             integer,
    context             varchar(65535),
    properties          varchar(65535),
    traits              varchar(65535),
    integrations        varchar(65535)
);
