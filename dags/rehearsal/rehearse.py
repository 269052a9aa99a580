"""`make rehearse DATE=…`: run segment_daily end to end here with dag.test(), twice: the happy day
(the sample logs of the date landed in a moto bucket) and a day with no files (the sensor gives
up, no EMR job starts). Prints the Slack messages each run sent to the local recorder."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # dags/ (Airflow adds it when it parses)

from rehearsal.stage import Stage  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--date", default="2023-11-08", help="business date with sample logs (2023-11-07..2023-11-10)")
    p.add_argument("--empty-date", default="2023-12-24", help="a date without files (the failure rehearsal)")
    p.add_argument("--sensor-timeout", type=int, default=20, help="seconds the sensors wait on the empty day")
    args = p.parse_args()
    happy, empty = date.fromisoformat(args.date), date.fromisoformat(args.empty_date)
    ok = True
    with Stage(sensor_timeout_s=args.sensor_timeout) as stage:
        print(f"moto {stage.moto_url}, EMR application {stage.application_id}, Slack recorder {stage.slack.url}")
        print(f"{stage.land(happy)} sample files of {happy} uploaded to s3://segment-raw/segment-logs")
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
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
