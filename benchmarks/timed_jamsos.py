"""``jamsos`` as the console script runs it, with the near-duplicate search timed in-process.

    python benchmarks/timed_jamsos.py TIMINGS.json validate ROSTER.csv ...

The benchmark runs validate and build-batch through this instead of the ``jamsos`` script
so that one run gives both the whole command's time and the near-duplicate search's share
(a 10-million-row run is too long to run twice). The search is wrapped where the pipeline
calls it; the seconds go to TIMINGS.json, nothing else changes.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> None:
    timings = Path(sys.argv[1])
    from jamsos_cli import cli, neardup

    spent = {"neardup_s": 0.0, "neardup_calls": 0}
    search = neardup.search  # the one entry (``find_near_duplicates`` goes through it too)

    def timed_search(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return search(*args, **kwargs)
        finally:
            spent["neardup_s"] += time.perf_counter() - t0
            spent["neardup_calls"] += 1

    neardup.search = timed_search  # the pipeline imports it at call time
    sys.argv = ["jamsos", *sys.argv[2:]]
    try:
        cli.main()
    finally:
        timings.write_text(json.dumps({k: round(v, 3) for k, v in spent.items()}))


if __name__ == "__main__":
    main()
