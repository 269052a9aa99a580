"""The benchmarks (`make bench`): see benchmarks/README.md and `python -m benchmarks --help`."""
