"""Secrets out of messages: what the loader (and the CLI) prints or writes to JSON goes through
``redact`` first, so a driver's error that echoes a connection string, a password or an AWS
key does not put it into a log, a Slack alert or load_results.json.

Written here, not taken from a library: the scanners (detect-secrets) find secrets in files,
they do not rewrite text; the rules are few and ours (which env vars hold secrets).
"""

from __future__ import annotations

import os
import re

MASK = "***"

# Env vars whose values are secrets wherever they appear (profiles.yml reads them, boto3 and
# psycopg read them): their literal values are masked in any message.
SECRET_ENV_VARS = ("PGPASSWORD", "REDSHIFT_PASSWORD", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                   "SLACK_WEBHOOK_URL", "SEGLOG_SLACK_WEBHOOK")

_PATTERNS = [
    # scheme://user:password@host: postgresql://, jdbc:redshift://, https://  # pragma: allowlist secret
    (re.compile(r"(?P<pre>[a-z][a-z0-9+.:-]*://[^\s:/@'\"]+:)[^\s@'\"]+(?=@)", re.I), r"\g<pre>" + MASK),
    # key=value / key: value in a libpq conninfo, a JDBC URL, a config dump
    (re.compile(r"(?P<pre>\b(?:password|passwd|pwd|secret|secret_access_key|aws_secret_access_key|"
                r"session_token|aws_session_token|token|sslpassword)\b['\"]?\s*[=:]\s*['\"]?)[^\s'\",;&)]+", re.I),
     r"\g<pre>" + MASK),
    # an AWS access key id
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), MASK),
]


def redact(text: str, env: dict[str, str] | None = None) -> str:
    """``text`` with connection-string passwords, key=value secrets, AWS key ids and the values of
    the secret env vars replaced by ***."""
    env = os.environ if env is None else env
    out = text
    for name in SECRET_ENV_VARS:
        value = env.get(name, "")
        if len(value) >= 4:  # a short value (or none) would mask ordinary words
            out = out.replace(value, MASK)
    for pattern, repl in _PATTERNS:
        out = pattern.sub(repl, out)
    return out
