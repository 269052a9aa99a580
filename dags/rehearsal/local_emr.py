"""The EMR job, rehearsed as EMR Serverless runs it.

moto's EMR Serverless accepts the operator's requests (a stopped application is started first,
as on AWS) and reports the job run SUCCESS at once. This stand-in then runs what EMR would have
run, from the request and the files uploaded under the EMR root, nothing else:

- as the job's execution role: the job's AWS calls carry the job role's keys, not the worker's;
- the entry point and every ``spark.archives`` entry are downloaded from S3, and each archive is
  unpacked into the job's working folder under its alias (./environment, ./project), as EMR's
  container does before the driver starts. Local Spark starts the driver's Python before it
  unpacks an archive itself, so that step is the stand-in's (Spark unpacks them again for its
  own use, from the same S3 paths);
- ``spark-submit`` (the Spark that pyspark 3.5 bundles) of the entry point with the request's
  entryPointArguments and every sparkSubmitParameter; the ``spark.emr-serverless.driverEnv.*``
  settings become the driver's environment, so PYSPARK_PYTHON is the archive's interpreter.

What differs from EMR is LOCAL_DIFFERENCES, nothing more. A job that fails here fails the task
exactly as a FAILED job run fails the real operator.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from airflow.providers.amazon.aws.operators.emr import EmrServerlessStartJobOperator

# Every way the rehearsed job differs from the one EMR Serverless runs, in one place:
LOCAL_DIFFERENCES = {
    "spark.master": "local[2]: one machine, not EMR's driver and executor workers",
    "spark.sql.warehouse.dir": "a local folder (SEGLOG_SPARK_DIR/warehouse), not {emr_root}/warehouse on S3",
    "metastore": "Derby under SEGLOG_SPARK_DIR, not the Glue Data Catalog (the Glue client factory is left out)",
    "s3 reads by Spark": ("the raw root and the code folder are mounted on local copies (Hadoop's "
                          "ViewFileSystemOverloadScheme for s3://), downloaded from moto with the job role's keys "
                          "just before; EMR reads them through EMRFS"),
    "aws endpoint": "moto's server (AWS_ENDPOINT_URL), with the job role's keys as environment variables",
    "driver JVM": ("the project's quiet log4j2.properties, and the JIT's quick tier as in the local profile "
                   "(thousands of short queries on 2 cores; results do not depend on it), not EMR's defaults"),
}
OVERRIDDEN = ("spark.master", "spark.sql.warehouse.dir", "spark.hadoop.hive.metastore.client.factory.class",
              "spark.driver.extraJavaOptions")


def parse_submit_parameters(text: str) -> dict[str, str]:
    """``--conf k=v --conf k2=v2`` as a dict (the only form the request uses)."""
    words = shlex.split(text)
    conf: dict[str, str] = {}
    for flag, value in zip(words[::2], words[1::2]):
        if flag != "--conf" or "=" not in value:
            raise ValueError(f"sparkSubmitParameters: only --conf k=v is rehearsed, got {flag} {value}")
        key, _, val = value.partition("=")
        conf[key] = val
    return conf


class LocalEmrServerlessJob(EmrServerlessStartJobOperator):
    def execute(self, context: Any, event: dict[str, Any] | None = None) -> str | None:
        job_id = super().execute(context, event)  # moto: the app is started, the request recorded
        driver = self.job_driver["sparkSubmit"]
        work = Path(os.environ["SEGMENT_DAILY_LOCAL_EMR_DIR"]) / f"job-{job_id}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        conf = parse_submit_parameters(driver["sparkSubmitParameters"])
        s3 = self._job_role_s3()
        entry = self._download(s3, driver["entryPoint"], work / "mirror")
        mounts: dict[str, Path] = {}
        for spec in conf["spark.archives"].split(","):
            uri, _, alias = spec.partition("#")
            local = self._download(s3, uri, work / "mirror")
            with tarfile.open(local) as tar:
                tar.extractall(work / alias, filter="tar")
            mounts[uri.rsplit("/", 1)[0]] = local.parent
        raw_root = driver["entryPointArguments"][driver["entryPointArguments"].index("--raw-root") + 1]
        mounts[raw_root] = self._mirror(s3, raw_root, work / "mirror")
        cmd = self._spark_submit(conf, mounts, entry, driver["entryPointArguments"])
        self.log.info("running the job as EMR would (differences: %s):\n  %s",
                      json.dumps(LOCAL_DIFFERENCES, indent=1), " ".join(shlex.quote(c) for c in cmd))
        proc = subprocess.run(cmd, cwd=work, env=self._job_env(conf), capture_output=True, text=True)
        (work / "driver.log").write_text(proc.stdout + proc.stderr)
        self.log.info("job output (driver.log in %s):\n%s", work, (proc.stdout + proc.stderr)[-20000:])
        if proc.returncode != 0:  # the driver's last error lines: dbt's failures, the job's refusal
            marks = ("ERROR", "Failure in", "Error in", "Database Error", "Runtime Error")
            last = [line.strip() for line in (proc.stdout + proc.stderr).splitlines() if any(m in line for m in marks)][-4:]
            raise RuntimeError(f"EMR Serverless job {job_id} failed (rehearsed locally, exit {proc.returncode}): "
                               + (" ".join(last) or proc.stderr.strip()[-300:]))
        return job_id

    # -- what EMR's container does before the driver starts -----------------------------------------
    @staticmethod
    def _job_role() -> dict[str, str]:
        return json.loads(os.environ["SEGMENT_DAILY_LOCAL_JOB_ROLE"])  # the job role's keys (the Stage's)

    def _job_role_s3(self) -> Any:
        import boto3

        keys = self._job_role()
        return boto3.client("s3", aws_access_key_id=keys["access_key"], aws_secret_access_key=keys["secret_key"],
                            region_name=keys["region"], endpoint_url=keys["endpoint"])

    @staticmethod
    def _download(s3: Any, uri: str, mirror: Path) -> Path:
        parsed = urlparse(uri)
        local = mirror / parsed.netloc / parsed.path.lstrip("/")
        local.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(parsed.netloc, parsed.path.lstrip("/"), str(local))
        return local

    @staticmethod
    def _mirror(s3: Any, root: str, mirror: Path) -> Path:
        """A local copy of every object under ``root`` (what the job may read), same layout."""
        parsed = urlparse(root.rstrip("/"))
        prefix = parsed.path.lstrip("/") + "/"
        base = mirror / parsed.netloc / prefix
        base.mkdir(parents=True, exist_ok=True)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=parsed.netloc, Prefix=prefix):
            for obj in page.get("Contents", []):
                local = mirror / parsed.netloc / obj["Key"]
                local.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(parsed.netloc, obj["Key"], str(local))
        return base

    # -- spark-submit ---------------------------------------------------------------------------------
    @staticmethod
    def _spark_home() -> Path:
        return Path(os.environ["SEGMENT_DAILY_LOCAL_SPARK_HOME"])

    def _spark_submit(self, conf: dict[str, str], mounts: dict[str, Path], entry: Path, args: list[str]) -> list[str]:
        spark_dir = Path(os.environ["SEGLOG_SPARK_DIR"]).resolve()
        project = Path(os.environ["SEGLOG_HOME"])
        local = {k: v for k, v in conf.items() if k not in OVERRIDDEN}
        local["spark.sql.warehouse.dir"] = str(spark_dir / "warehouse")
        local["spark.hadoop.javax.jdo.option.ConnectionURL"] = \
            f"jdbc:derby:;databaseName={spark_dir}/metastore_db;create=true"
        local["spark.driver.extraJavaOptions"] = (f"-Dderby.system.home={spark_dir} "
                                                  f"-Dlog4j2.configurationFile=file:{project}/conf/log4j2.properties "
                                                  "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=512m")
        local["spark.hadoop.fs.s3.impl"] = "org.apache.hadoop.fs.viewfs.ViewFileSystemOverloadScheme"
        for uri, folder in mounts.items():
            parsed = urlparse(uri.rstrip("/"))
            local[f"spark.hadoop.fs.viewfs.mounttable.{parsed.netloc}.link.{parsed.path}"] = \
                f"file://{str(folder).rstrip('/')}"
        cmd = [str(self._spark_home() / "bin" / "spark-submit"), "--master", "local[2]"]
        for key, value in local.items():
            cmd += ["--conf", f"{key}={value}"]
        return [*cmd, str(entry), *args]

    def _job_env(self, conf: dict[str, str]) -> dict[str, str]:
        keys = self._job_role()
        env = {name: os.environ[name] for name in ("PATH", "HOME", "JAVA_HOME", "LANG", "TMPDIR") if name in os.environ}
        env.update({"SPARK_HOME": str(self._spark_home()), "AWS_ACCESS_KEY_ID": keys["access_key"],
                    "AWS_SECRET_ACCESS_KEY": keys["secret_key"], "AWS_ENDPOINT_URL": keys["endpoint"]})
        prefix = "spark.emr-serverless.driverEnv."
        env.update({k[len(prefix):]: v for k, v in conf.items() if k.startswith(prefix)})
        return env
