"""jamsos: city-funded BPJS Ketenagakerjaan enrolment rosters, validated and batched."""

import os

__version__ = "0.1.0"

# Polars' default streaming engine returns columns in many chunks; next to one-chunk columns
# (row numbers, ids) every eager step then first copies the whole frame into one chunk. The
# in-memory engine keeps one chunk: validate of a million rows peaks ~12% lower
# (benchmarks/analysis.md). Set before Polars is used; a user's own setting wins.
os.environ.setdefault("POLARS_ENGINE_AFFINITY", "in-memory")
