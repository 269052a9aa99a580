"""`make rehearse DATE=…`: run segment_daily end to end here with dag.test(), twice: the happy day
(the sample logs of the date landed in a moto bucket; the EMR job run through spark-submit of the
real env and project archives, as EMR Serverless runs it) and a day with no files (the sensor
gives up, no EMR job starts). Prints the Slack messages each run sent to the local recorder, the
raw root the job read beside the one the sensors watched, every AWS call each role made checked
against its policy in docs/iam/, and the runs a backfill of the days before would create."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # dags/ (Airflow adds it when it parses)

from rehearsal.permissions import POLICIES, ungranted  # noqa: E402
from rehearsal.stage import EMR_ROOT, RAW_ROOT, Stage  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--date", default="2023-11-08", help="business date with sample logs (2023-11-07..2023-11-10)")
    p.add_argument("--empty-date", default="2023-12-24", help="a date without files (the failure rehearsal)")
    p.add_argument("--sensor-timeout", type=int, default=20, help="seconds the sensors wait on the empty day")
    args = p.parse_args()
    happy, empty = date.fromisoformat(args.date), date.fromisoformat(args.empty_date)
    ok = True
    with Stage(sensor_timeout_s=args.sensor_timeout) as stage:
        print(f"moto {stage.moto_url}, EMR application {stage.application_id} (stopped), Slack recorder {stage.slack.url}")
        print(f"{stage.land(happy)} sample files of {happy} uploaded to {RAW_ROOT}")
        for label, day in (("a happy day", happy), ("a day with no files", empty)):
            stage.slack.clear()
            print(f"\n=== dag.test() for {day} ({label}) ===", flush=True)
            run = stage.run(day)
            print(f"run state: {run.state}")
            print("Slack messages recorded:")
            for text in stage.slack.texts():
                print(f"  {text}")
            ok &= (str(run.state) == "success") == (day == happy)
        runs = stage.job_runs()
        print(f"\nEMR Serverless (moto) job runs: {', '.join(r['name'] for r in runs) or 'none'}")

        bucket, _, prefix = EMR_ROOT[len("s3://"):].partition("/")
        s3 = stage.client("s3")
        print(f"raw root the sensors watched: {RAW_ROOT}")
        try:
            job = json.loads(s3.get_object(Bucket=bucket, Key=f"{prefix}/runs/ymd={happy}/job.json")["Body"].read())
        except s3.exceptions.NoSuchKey:
            print("the job wrote no job.json: it did not finish (its error is in the task's log above)")
            ok = False
        else:
            print(f"raw root the job was given:   {job['raw_root']}; it read files under: "
                  f"{', '.join(job['raw_roots_read'])}")
            ok &= job["raw_roots_read"] == [RAW_ROOT]

        calls = stage.calls()
        missing = ungranted(calls, stage.policies())
        for role in POLICIES:
            mine = {(c.action, c.resource.split(":")[-1]) for c in calls if c.role == role}
            print(f"{role} role: {len([c for c in calls if c.role == role])} AWS calls, {len(mine)} distinct, "
                  f"{len([c for c in missing if c.role == role])} not granted by docs/iam/{POLICIES[role]}")
        for call in missing:
            print(f"  NOT GRANTED ({call.role}): {call}")
        ok &= not missing

        start, end = happy - timedelta(days=3), happy - timedelta(days=1)
        backfill = ["backfill", "create", "--dag-id", "segment_daily", "--from-date", start.isoformat(),
                    "--to-date", f"{end.isoformat()}T23:59:59+09:00", "--max-active-runs", "1", "--dry-run"]
        print(f"\nHistory is loaded on purpose (catchup is off): airflow {' '.join(backfill[:-1])}")
        subprocess.run([str(Path(sys.executable).with_name("airflow")), "dags", "reserialize"], check=True,
                       capture_output=True)
        out = subprocess.run([str(Path(sys.executable).with_name("airflow")), *backfill], capture_output=True,
                             text=True)
        print("  --dry-run says:\n    " + "\n    ".join(
            line.strip() for line in out.stdout.splitlines() if line.strip() and "[info" not in line) or out.stderr[-500:])
    print("\nrehearsal " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
