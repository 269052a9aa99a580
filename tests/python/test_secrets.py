"""Promise 6 of the reliability suite: no credential in the repo or in what we print.

- the secret scanner (detect-secrets, run over every tracked file by `make lint` and pre-commit)
  refuses a file that holds a key;
- the loader's errors are redacted before they reach the console, the JSON or Slack, and so is
  every error a seglog command prints (seglog/terminal.py); the masking holds for any password
  in every form below (property-based);
- profiles.example.yml reads every secret from the environment.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from seglog.loader import LoadError
from seglog.project import PROJECT_DIR
from seglog.redact import MASK, redact

BIN = Path(sys.executable).parent

# Built at run time, so this file itself holds no key for the scanner to find.
FAKE_KEY_ID = "AKIA" + "Z7Q2" * 4
FAKE_PASSWORD = "pw-" + "x9K2" * 3  # pragma: allowlist secret


@pytest.mark.parametrize("text, secret", [
    (f"connection to postgresql://loader:{FAKE_PASSWORD}@db.internal:5439/analytics failed", FAKE_PASSWORD),
    (f"jdbc:redshift://etl:{FAKE_PASSWORD}@cluster.example:5439/dev", FAKE_PASSWORD),
    (f"host=127.0.0.1 port=5432 user=loader password={FAKE_PASSWORD} dbname=analytics", FAKE_PASSWORD),
    (f"{{'user': 'loader', 'password': '{FAKE_PASSWORD}'}}", FAKE_PASSWORD),
    (f"aws_secret_access_key = {FAKE_PASSWORD}", FAKE_PASSWORD),
    (f"InvalidClientTokenId: the key {FAKE_KEY_ID} is not valid", FAKE_KEY_ID),
])
def test_redact_masks_every_shape_of_credential(text: str, secret: str) -> None:
    out = redact(text, env={})
    assert secret not in out
    assert MASK in out


# Any text but whitespace (Unicode's too), control characters and quotes (what an unquoted or URL password can hold: @ ; & , ) = : / …)
BARE = st.text(st.characters(blacklist_categories=("Z", "C"), blacklist_characters="'\""), min_size=4, max_size=40)
# A quoted password may hold spaces; it cannot hold its own quote
_WORD = st.text(st.characters(blacklist_categories=("Z", "C"), blacklist_characters="'\"\\"), min_size=2, max_size=12)
SPACED = st.lists(_WORD, min_size=2, max_size=4).map(" ".join)
BEARER = st.from_regex(r"[A-Za-z0-9._~+/-]{8,60}=?=?", fullmatch=True)
FORMS_BARE = [
    "connection to postgresql://loader:{}@db.internal:5439/analytics failed",
    "jdbc:redshift://etl:{}@cluster.example:5439/dev",
    "host=127.0.0.1 user=loader password={} dbname=analytics",
    "jdbc:redshift://cluster.example:5439/dev;UID=etl;PWD={}",
    "https://api.example.com/v1?api_key={}&page=2",
    "client_secret={} grant_type=client_credentials",
    "X-Api-Key: {}",
    "aws_session_token = {}",
]
FORMS_QUOTED = [
    "host=127.0.0.1 user=loader password='{}' dbname=analytics",
    '{{"user": "loader", "password": "{}"}}',
    "{{'user': 'loader', 'password': '{}'}}",
]


def _masks(form: str, secret: str) -> None:
    assume(secret not in form.format(MASK))  # a secret that is also ordinary text of the message proves nothing
    out = redact(form.format(secret), env={})
    assert secret not in out, out
    assert MASK in out


@settings(max_examples=150, deadline=None)
@given(secret=BARE, form=st.sampled_from(FORMS_BARE))
def test_redact_masks_any_password_in_every_unquoted_form(secret: str, form: str) -> None:
    _masks(form, secret)


@settings(max_examples=150, deadline=None)
@given(secret=SPACED, form=st.sampled_from(FORMS_QUOTED))
def test_redact_masks_any_quoted_password_spaces_and_all(secret: str, form: str) -> None:
    _masks(form, secret)


@settings(max_examples=150, deadline=None)
@given(secret=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30))
def test_redact_masks_a_conninfo_password_with_escaped_quotes_whole(secret: str) -> None:
    """libpq's conninfo escapes a quote or a backslash in a quoted value with a backslash: the
    value is masked up to its closing quote, nothing of it left (any text, quotes included)."""
    escaped = secret.replace("\\", "\\\\").replace("'", "\\'")
    assert redact(f"host=h password='{escaped}' dbname=x", env={}) == "host=h password=*** dbname=x"


@settings(max_examples=100, deadline=None)
@given(token=BEARER)
def test_redact_masks_a_bearer_token(token: str) -> None:
    _masks("request failed: 401, sent Authorization: Bearer {}", token)


@pytest.mark.parametrize("text, secret", [
    ("postgresql://loader:p@ss@w0rd@db.internal:5439/analytics", "ss@w0rd"),
    ("password='two words' dbname=x", "two words"),  # pragma: allowlist secret
    ("password=semi;colon dbname=x", "colon"),
    ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi"),
    ("GET /x?api_key=k3y-value-1", "k3y-value-1"),
    ("client_secret=shh-its-secret", "shh-its-secret"),
    ("redis://:n0-user-pw@cache.internal:6379/0", "n0-user-pw"),
    ("token refresh failed: access_token: Bearer eyJzdWIiOiJ4In0.sig", "eyJzdWIiOiJ4In0"),
    ("401 with Authorization: Basic bG9hZGVyOnB3LXNlY3JldA==", "bG9hZGVyOnB3LXNlY3JldA"),
])
def test_redact_masks_the_forms_that_leaked_before(text: str, secret: str) -> None:
    assert secret not in redact(text, env={})


def test_every_seglog_command_prints_its_errors_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    """One printer for the commands' errors (seglog/terminal.py), and it masks: a driver's error
    that echoes a DSN reaches the terminal without the password."""
    import typer

    from seglog.terminal import fail

    with pytest.raises(typer.Exit) as exit_:
        fail(f"could not connect: postgresql://loader:{FAKE_PASSWORD}@db:5439/x [not markup]", code=1)
    err = capsys.readouterr().err
    assert exit_.value.exit_code == 1
    assert FAKE_PASSWORD not in err and f"loader:{MASK}@db" in err and "[not markup]" in err
    printers = [p.relative_to(PROJECT_DIR) for p in (PROJECT_DIR / "scripts" / "seglog").rglob("*.py")
                if "error:[/]" in p.read_text(encoding="utf-8")]
    assert printers == [], f"these print errors with their own markup, not through seglog.terminal: {printers}"


def test_redact_masks_the_values_of_the_secret_env_vars_wherever_they_appear() -> None:
    env = {"PGPASSWORD": FAKE_PASSWORD, "AWS_SECRET_ACCESS_KEY": "wJalr" + "XUtnFEMI" * 4}  # pragma: allowlist secret
    text = f"server said: bad token {env['AWS_SECRET_ACCESS_KEY']} (tried {FAKE_PASSWORD})"
    out = redact(text, env=env)
    assert FAKE_PASSWORD not in out and env["AWS_SECRET_ACCESS_KEY"] not in out
    assert out == f"server said: bad token {MASK} (tried {MASK})"


def test_redact_leaves_ordinary_messages_alone() -> None:
    text = ("segment_log: the load failed and was rolled back, the previous rows are intact: "
            "value too long for type character varying(64) in column ymd (2023-11-08)")
    assert redact(text, env={"PGPASSWORD": ""}) == text


def test_a_load_error_never_carries_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", FAKE_PASSWORD)
    err = LoadError(f"segment_log: cannot reach PostgreSQL (OperationalError: connection to "
                    f"'postgresql://loader:{FAKE_PASSWORD}@127.0.0.1:1/analytics' failed)")
    assert FAKE_PASSWORD not in str(err)
    assert "segment_log: cannot reach PostgreSQL" in str(err)


def test_the_secret_scanner_refuses_a_file_that_holds_a_key(tmp_path: Path) -> None:
    leaked = tmp_path / "settings.py"
    leaked.write_text(f'AWS_ACCESS_KEY_ID = "{FAKE_KEY_ID}"\n')
    clean = tmp_path / "clean.py"
    clean.write_text('REGION = "ap-northeast-2"\n')
    hook = [str(BIN / "detect-secrets-hook"), "--baseline", str(PROJECT_DIR / ".secrets.baseline")]
    found = subprocess.run([*hook, str(leaked)], capture_output=True, text=True, cwd=PROJECT_DIR)
    assert found.returncode == 1, found.stdout + found.stderr
    assert "AWS Access Key" in found.stdout and "settings.py" in found.stdout
    ok = subprocess.run([*hook, str(clean)], capture_output=True, text=True, cwd=PROJECT_DIR)
    assert ok.returncode == 0, ok.stdout + ok.stderr


SECRET_KEYS = {"password", "token", "secret", "aws_secret_access_key", "aws_session_token", "access_key"}


def test_profiles_read_every_secret_from_the_environment() -> None:
    profiles = yaml.safe_load((PROJECT_DIR / "profiles.example.yml").read_text())
    seen = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if str(key).lower() in SECRET_KEYS:
                    seen.append(where + "." + str(key))
                    assert isinstance(value, str) and value.strip().startswith("{{ env_var("), (
                        f"{where}.{key} must come from env_var(), not be written in the file")
                    assert "env_var('" in value and value.rstrip().endswith("}}")
                walk(value, f"{where}.{key}")

    walk(profiles, "profiles")
    assert seen, "profiles.example.yml names no password at all: the check would prove nothing"


def _grants_sql() -> list[str]:
    """The statements of the `-- bi-readonly-grants` block in docs/security.md."""
    text = (PROJECT_DIR / "docs" / "security.md").read_text()
    block = text.split("-- bi-readonly-grants\n", 1)[1].split("```", 1)[0]
    return [s.strip() for s in block.split(";") if s.strip()]


def test_the_documented_bi_grants_let_bi_read_and_nothing_else(pg) -> None:
    import psycopg
    from psycopg import errors

    statements = _grants_sql()
    assert any("ALTER DEFAULT PRIVILEGES" in s for s in statements)
    with psycopg.connect(**pg, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_roles where rolname = 'dbt_loader'").fetchone():  # roles are per server
            conn.execute("create role dbt_loader")
        for schema in ("marts", "snapshots"):
            conn.execute(f"create schema if not exists {schema}")
            conn.execute(f"grant usage, create on schema {schema} to dbt_loader")
        conn.execute("set role dbt_loader")
        conn.execute("create table marts.bi_probe_before (x int)")
        conn.execute("insert into marts.bi_probe_before values (1)")
        conn.execute("reset role")
        for stmt in statements:  # as the admin, exactly as documented
            conn.execute(stmt)
        conn.execute("set role dbt_loader")  # a table the loader creates after the grants
        conn.execute("create table snapshots.bi_probe_after (x int)")
        conn.execute("insert into snapshots.bi_probe_after values (2)")
        conn.execute("reset role")
        conn.execute("create user bi_probe in group bi_readonly")

        conn.execute("set role bi_probe")
        assert conn.execute("select x from marts.bi_probe_before").fetchall() == [(1,)]
        assert conn.execute("select x from snapshots.bi_probe_after").fetchall() == [(2,)]
        refused = ["insert into marts.bi_probe_before values (3)", "delete from marts.bi_probe_before",
                   "update snapshots.bi_probe_after set x = 0", "truncate marts.bi_probe_before",
                   "drop table marts.bi_probe_before", "create table marts.bi_probe_new (x int)",
                   "create table public.bi_probe_new (x int)"]
        for stmt in refused:
            with pytest.raises((errors.InsufficientPrivilege,)):
                conn.execute(stmt)
        conn.execute("reset role")
        assert conn.execute("select count(*) from marts.bi_probe_before").fetchone() == (1,)


def test_security_md_and_the_policy_files_in_docs_iam_agree() -> None:
    import json
    import re

    doc = (PROJECT_DIR / "docs" / "security.md").read_text()
    files = sorted((PROJECT_DIR / "docs" / "iam").glob("*.json"))
    assert [f.name for f in files] == ["airflow-worker-role.json", "emr-job-role.json", "redshift-copy-role.json"]
    sections = re.split(r"\n## ", doc)
    for path in files:
        policy = json.loads(path.read_text())
        section = next((s for s in sections if f"(iam/{path.name})" in s.split("\n", 1)[0]), None)
        assert section, f"docs/security.md has no section headed with a link to iam/{path.name}"
        sids = [st["Sid"] for st in policy["Statement"]]
        assert len(sids) == len(set(sids))
        explained = set(re.findall(r"`([A-Z][A-Za-z]+)`", section))
        assert set(sids) <= explained, f"{path.name}: {set(sids) - explained} not explained in security.md"
        assert explained & {s for f in files for s in re.findall(r'"Sid": "(\w+)"', f.read_text())} == set(sids)
    assert "```json" not in doc  # the policies live in the files only: one source
