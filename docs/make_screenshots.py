"""Regenerate the README's pictures of ``jamsos report`` from the sample rosters.

    .venv/bin/python docs/make_screenshots.py

Builds a demo ledger from the three sample decrees (``sample_data/``, as the README's first
command does for one of them) in ``build/screenshots/`` (gitignored), writes the report, the
recap and a Berita Acara there, opens them in headless Chromium (the Debian ``chromium``
package, through the tests' DevTools client) and saves ``docs/report-desktop.png`` (the top of
the page on a laptop), ``docs/report-phone.png`` (the top on a phone) and
``docs/berita-acara.png`` (the record as printed).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import chromium, find_chromium  # noqa: E402

WORK = ROOT / "build" / "screenshots"
DECREES = (
    ("perwako-batam-49-2025", "2025-06", ()),
    ("perwako-batam-30-2025", "2025-07", ()),
    ("perwako-batam-3-2023", "2025-08", ("--role", "nelayan")),
)


def jamsos(*args: str) -> None:
    """The installed command, run from the work folder (so the page names the ledger as
    ``demo/ledger.sqlite``, not a path of this machine)."""
    cmd = [sys.executable, "-m", "jamsos_cli", *args]
    done = subprocess.run(cmd, cwd=WORK, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)}: exit {done.returncode}\n{done.stderr}")


def small_png(path: Path) -> None:
    """256 colours: a screenshot of flat colours and text loses nothing visible, and the
    repository keeps a third of the bytes."""
    from PIL import Image

    with Image.open(path) as image:
        image.convert("RGB").quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)


def main() -> None:
    executable = find_chromium()
    if executable is None:
        raise SystemExit("Chromium is not installed (Debian: apt-get install chromium)")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    for decree, start, extra in DECREES:
        jamsos("build-batch", str(ROOT / "sample_data" / decree), "--decree", decree,
               "--start", start, *extra, "--out", "demo", "--ledger", "demo/ledger.sqlite",
               "--quiet")  # fmt: skip
    jamsos("report", "--ledger", "demo/ledger.sqlite", "--out", "laporan.html", "--xlsx",
           "rekap.xlsx", "--berita-acara", "berita-acara.html", "--batch", "2", "--month",
           "2025-12")  # fmt: skip
    docs = ROOT / "docs"
    with chromium(executable, WORK) as browser:
        browser.load(WORK / "laporan.html", 1280, 900)
        browser.screenshot(docs / "report-desktop.png", 1280, max_height=1500)
        browser.load(WORK / "laporan.html", 390, 800, mobile=True)
        browser.screenshot(docs / "report-phone.png", 390, mobile=True, max_height=1700)
        browser.load(WORK / "berita-acara.html", 900, 900)
        browser.print_view(docs / "berita-acara.png")
    for name in ("report-desktop.png", "report-phone.png", "berita-acara.png"):
        small_png(docs / name)
        print(f"docs/{name}: {(docs / name).stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
