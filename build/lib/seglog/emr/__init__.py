"""EMR Serverless: the job's entry point (job.py), the job request and application settings as
code (spec.py), creating/updating the application (application.py), submitting runs from a
laptop (submit.py) and building the code bundle EMR runs (bundle.py)."""
