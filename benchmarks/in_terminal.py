"""Run a command with its stderr on a pseudo-terminal, as a clerk at a terminal runs it.

    python benchmarks/in_terminal.py COMMAND [ARG...]

jamsos draws its progress display only when stderr is a terminal; the benchmark times
``validate`` through this to show that the display costs nothing worth counting. stdout
stays as given (the report goes where the benchmark sends it); what is drawn on the
terminal is read and thrown away, and its size is printed on this script's stderr so a run
shows the display was there. The exit code is the command's.
"""

from __future__ import annotations

import os
import subprocess
import sys


def main() -> int:
    leader, follower = os.openpty()
    env = {**os.environ, "TERM": os.environ.get("TERM", "xterm-256color"), "COLUMNS": "120"}
    proc = subprocess.Popen(sys.argv[1:], stderr=follower, env=env)
    os.close(follower)
    drawn = 0
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the command's last writer exits (EIO)
            break
        if not chunk:
            break
        drawn += len(chunk)
    code = proc.wait()
    print(f"progress display: {drawn:,} bytes drawn on the terminal", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
