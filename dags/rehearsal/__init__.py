"""The local rehearsal of segment_daily (`make rehearse`, tests/dags): moto for S3 and EMR
Serverless, the EMR job's entry point run here on local Spark, the local PostgreSQL, and a
Slack webhook server of ours that records what it is sent. Not a DAG folder (.airflowignore)."""
