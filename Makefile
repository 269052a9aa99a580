# Segment logs on Spark, the dbt way. `make help` lists the targets; README.md explains them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Business date (KST) for `make run`; empty = the default of dbt_project.yml (2023-11-08).
DATE   ?=

export SEGLOG_HOME := $(CURDIR)
# Fresh, throw-away Spark warehouses for the checks, apart from the one `make run` fills.
CI_SPARK_DIR   := $(CURDIR)/data/ci-spark
LINT_SPARK_DIR := $(CURDIR)/data/lint-spark

.PHONY: help venv profile sample run load audit lint secrets dbt-test pytest test docs lock clean distclean pg-start pg-stop pg-status bench \
        airflow-venv dag-test rehearse lock-airflow emr-env emr-bundle parity

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# The virtualenvs are installed by uv (pinned, itself installed by pip into each venv): the same
# pinned requirements, but downloads in parallel. pip took 3m45s for the two venvs on a fresh
# clone, uv 50 s here. UV_LINK_MODE=copy: uv's cache may sit on another filesystem.
UV_VERSION := 0.13.9
export UV_LINK_MODE := copy
UV_INSTALL = $(1)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) && \
	$(1)/bin/uv pip install --quiet --python $(1)/bin/python

# The virtualenv is rebuilt only when missing or older than the pinned requirements.
$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(call UV_INSTALL,$(VENV)) -r requirements.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP) ## Create/refresh .venv from requirements.txt (only if missing or stale)

# Airflow lives in its own virtualenv (dags/requirements.txt): it never pins dbt's environment.
AF_VENV  := .venv-airflow
AF_STAMP := $(AF_VENV)/.installed
$(AF_STAMP): dags/requirements.txt
	@test -x $(AF_VENV)/bin/python || $(PYTHON) -m venv $(AF_VENV)
	$(call UV_INSTALL,$(AF_VENV)) -r dags/requirements.txt
	@touch $(AF_STAMP)

airflow-venv: $(AF_STAMP) ## Create/refresh .venv-airflow (Airflow 3 + Amazon/Slack providers) from dags/requirements.txt

profiles.yml:
	cp profiles.example.yml profiles.yml

profile: profiles.yml ## Write ./profiles.yml from profiles.example.yml if missing

SAMPLE_MANIFEST := data/sample/segment-logs/_manifest.json

# The sample is written once, and again only when the generator changes.
$(SAMPLE_MANIFEST): scripts/seglog/generator.py scripts/seglog/kst_calendar.py | $(STAMP)
	$(BIN)/seglog generate

sample: venv $(SAMPLE_MANIFEST) ## Generate the sample Segment logs into data/sample (if missing or the generator changed)

run: venv profiles.yml sample ## The daily job for DATE (default 2023-11-08): dbt build on local Spark, audit, load into the local PostgreSQL
	$(BIN)/seglog run $(if $(DATE),--date $(DATE))
	$(BIN)/seglog load $(if $(DATE),--date $(DATE))

TARGET ?=
load: venv profiles.yml ## Load what the run for DATE rewrote into the warehouse again (TARGET=pg_local|redshift; default the local PostgreSQL)
	$(BIN)/seglog load $(if $(DATE),--date $(DATE)) $(if $(TARGET),--target $(TARGET))

audit: venv ## Print the audit of a date already run (DATE=…)
	$(BIN)/seglog audit $(if $(DATE),--date $(DATE))

lint: venv profiles.yml secrets ## sqlfluff (dbt templater, sparksql) over models/, tests/ and snapshots/, then the secret scan
	SEGLOG_SPARK_DIR=$(LINT_SPARK_DIR) $(BIN)/sqlfluff lint models tests snapshots

secrets: venv ## the secret scanner (detect-secrets) over every tracked file; fails on a finding not reviewed into .secrets.baseline
	git ls-files -z | xargs -0 $(BIN)/detect-secrets-hook --baseline .secrets.baseline

DBT_TEST_FIRST ?= 2023-11-06
DBT_TEST_LAST ?= 2023-11-08
dbt-test: venv profiles.yml sample ## dbt build (models, snapshot, data tests) for 3 consecutive sample dates, fresh warehouse; unit tests with the first
	rm -rf $(CI_SPARK_DIR)
	SEGLOG_SPARK_DIR=$(CI_SPARK_DIR) $(BIN)/seglog run --unit-tests --date $(DBT_TEST_FIRST) --to $(DBT_TEST_LAST)
	$(if $(KEEP_WAREHOUSE),,rm -rf $(CI_SPARK_DIR))

pytest: venv profiles.yml browser emr-env ## pytest: CLI, generator, vars, and dbt runs on small generated data
	$(BIN)/pytest

dag-test: venv airflow-venv profiles.yml sample emr-env ## The DAG's tests in the Airflow venv: DagBag, task graph, dag.test() runs on moto + local Spark + PostgreSQL
	$(AF_VENV)/bin/pytest tests/dags

# In `make test` the sample's dates are built once each, with every dbt test: 2023-11-07 by
# dbt-test (with the unit tests; no history before it, as on a first day) and 2023-11-08 by the
# DAG tests' happy day, through spark-submit of the EMR job's real archives, on that warehouse
# (the windows overlap, a session crosses midnight, late events are picked up). dbt-test builds
# into the EMR job's own databases (SEGLOG_SCHEMA_PREFIX=segment_, as the DAG's default
# glue_database_prefix), so the job finds them under its warehouse and carries on from them.
# `make dbt-test` alone builds three dates.
# The checks run as two streams side by side, each line prefixed with its stream's name: one
# stream alone leaves a third of the 2 cores idle (JVM round trips, dbt's Python, metastore
# calls), and the streams share no warehouse, dbt target/ or log dir, or port (each has its own).
#   warehouse: parity (legacy Redshift SQL vs the models) -> dbt-test (11-07) -> dag-test (11-08 on it)
#   checks:    lint -> pytest
test: ## Every check: lint, the parity harness, dbt build with all tests (2 sample dates), pytest, the DAG tests
	$(MAKE) --no-print-directory -j2 venv airflow-venv
	$(MAKE) --no-print-directory profiles.yml sample browser emr-env
	$(MAKE) --no-print-directory -j2 test-warehouse test-checks
	rm -rf $(CI_SPARK_DIR)

# The two streams of `make test` (not meant to be run alone; their prerequisites are made by `test`).
.PHONY: test-warehouse test-checks
test-warehouse:
	{ $(MAKE) --no-print-directory parity && \
	  DBT_TARGET_PATH=$(CURDIR)/target/warehouse-stream DBT_LOG_PATH=$(CURDIR)/logs/warehouse-stream \
	  SEGLOG_SCHEMA_PREFIX=segment_ $(MAKE) --no-print-directory dbt-test DBT_TEST_FIRST=2023-11-07 DBT_TEST_LAST=2023-11-07 KEEP_WAREHOUSE=1 && \
	  SEGMENT_DAILY_SPARK_DIR=$(CI_SPARK_DIR) $(MAKE) --no-print-directory dag-test; } 2>&1 | sed -u 's/^/[warehouse] /'
test-checks:
	{ $(MAKE) --no-print-directory lint && $(MAKE) --no-print-directory pytest; } 2>&1 | sed -u 's/^/[checks] /'

REHEARSE_DATE ?= $(or $(DATE),2023-11-08)
bench: venv profiles.yml ## The benchmarks, not part of make test: read, daily run, history, loader at 100k and 1M events a day; a table + benchmarks/results/latest.{json,md} (BENCH_ARGS=--help)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

rehearse: venv airflow-venv profiles.yml sample emr-env ## Run the DAG end to end for DATE with dag.test(): moto S3/EMR, local Spark, local PostgreSQL, a recording Slack
	$(AF_VENV)/bin/python dags/rehearsal/rehearse.py --date $(REHEARSE_DATE)

# Chromium for the docs smoke test (tests/python/test_docs_site.py): Debian's package, when missing.
.PHONY: browser
browser: ## Install chromium (headless, for the docs test) if missing: apt-get, with sudo when not root
	@command -v chromium >/dev/null || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

# The local PostgreSQL 15 standing in for Redshift: data/pg, 127.0.0.1:54329 (PGPORT=… to change).
pg-start: venv ## Start the local PostgreSQL (initdb + database analytics on first use); no-op when running
	$(BIN)/seglog pg start

pg-stop: venv ## Stop the local PostgreSQL; no-op when stopped
	$(BIN)/seglog pg stop

pg-status: venv ## Is the local PostgreSQL running, on which port, where are its data and log
	$(BIN)/seglog pg status

# The parity harness (issue #6): the legacy Redshift SQL (legacy/redshift/) on the local
# PostgreSQL with the Redshift shim vs the dbt models on Spark, over one fixture (data/parity,
# warehouse data/parity-spark, artifacts target/parity). Every query Q01-Q17 is compared; one
# without legacy SQL fails the run. PARITY_ONLY=segment_log,Q06 narrows it; PARITY_ARGS=--reuse-spark
# skips the dbt run when the warehouse already holds this fixture's marts (see legacy/README.md).
PARITY_ONLY ?=
PARITY_ARGS ?=
parity: venv profiles.yml ## Legacy Redshift SQL (PostgreSQL + shim) vs the dbt models on Spark over a fixture (PARITY_ONLY=, PARITY_ARGS=)
	$(BIN)/seglog pg start
	$(BIN)/seglog parity $(if $(PARITY_ONLY),--only $(PARITY_ONLY)) $(PARITY_ARGS)

DOCS_PORT ?= 8080
docs: venv profiles.yml ## dbt docs generate, then serve them on http://localhost:8080 (DOCS_PORT=…); Ctrl-C stops
	$(BIN)/dbt docs generate
	$(BIN)/dbt docs serve --port $(DOCS_PORT) --no-browser

lock: ## Re-pin requirements.txt from requirements.in (in a scratch venv)
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -r requirements.in
	{ echo '# Pinned from requirements.in by `make lock`; installed by `make venv`. Do not edit by hand.'; \
	  .venv-lock/bin/pip freeze --exclude-editable; } > requirements.txt
	rm -rf .venv-lock

# The EMR job's Python env (Python 3.11 itself + dbt + seglog, relocatable): rebuilt when the pinned
# requirements or seglog's code change. For production, build it on Amazon Linux 2023 (docs/emr.md).
EMR_ENV := target/emr/seglog-env.tar.gz
$(EMR_ENV): requirements.txt pyproject.toml $(shell find scripts/seglog -name '*.py') | $(STAMP)
	$(BIN)/seglog emr env --out $(EMR_ENV)

emr-env: venv $(EMR_ENV) ## Build the EMR job's Python env archive (target/emr/seglog-env.tar.gz), if missing or stale

emr-bundle: venv $(EMR_ENV) ## Upload the job's entry point, env archive and project archive to $SEGLOG_EMR_ROOT/code/
	$(BIN)/seglog emr bundle --env-archive $(EMR_ENV)

lock-airflow: ## Re-pin dags/requirements.txt from dags/requirements.in (in a scratch venv)
	rm -rf .venv-lock-airflow && $(PYTHON) -m venv .venv-lock-airflow
	.venv-lock-airflow/bin/pip install --quiet -r dags/requirements.in
	{ echo '# Pinned from dags/requirements.in by `make lock-airflow`; installed by `make airflow-venv`. Do not edit by hand.'; \
	  .venv-lock-airflow/bin/pip freeze; } > dags/requirements.txt
	rm -rf .venv-lock-airflow

clean: ## Remove dbt's target/ and logs/ and the local Spark warehouses (keeps .venv and sample data)
	rm -rf target logs $(CURDIR)/data/spark $(CURDIR)/data/rehearsal $(CI_SPARK_DIR) $(LINT_SPARK_DIR)

distclean: clean ## Also remove .venv, data/ and profiles.yml (stops the local PostgreSQL first)
	-[ -x $(BIN)/seglog ] && $(BIN)/seglog pg stop
	rm -rf $(VENV) $(AF_VENV) data profiles.yml
