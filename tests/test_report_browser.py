"""The report in a real browser: headless Chromium (the Debian ``chromium`` package, driven over
the DevTools protocol by ``tests/browser.py``) opens each page from its file with the network
made unusable, and the tests assert that the page asked for nothing but itself, logged no
error, shows the ledger's numbers (read back from the rendered DOM), fits a phone's width, and
that the Berita Acara prints on one A4 page. Screenshots at desktop and phone widths are saved
to ``$JAMSOS_SCREENSHOTS`` (default: the test's temporary folder) for a person to look at.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import polars as pl
import pytest

from tests import report_world as rw
from tests.browser import chromium, find_chromium, pdf_pages
from tests.helpers import build_args
from tests.rosters import OJOL, RT, roster

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian package `chromium`, which .ci/run installs; "
    "or set JAMSOS_CHROMIUM to a Chromium binary)",
)

ROWS = """(name) => [...document.querySelectorAll(`table[data-table="${name}"] tbody tr`)].map(
  tr => Object.fromEntries([...tr.querySelectorAll('td')].map(
    td => [td.dataset.k, {v: td.dataset.v ?? null, text: td.textContent.trim()}])))"""


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> rw.World:
    return rw.world(tmp_path_factory)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with chromium(CHROMIUM, tmp_path_factory.mktemp("chromium")) as b:
        yield b


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("JAMSOS_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(browser, path: Path, width: int = 1280, mobile: bool = False) -> int:
    """Load ``path``; returns where this page's events start."""
    since = len(browser.events)
    browser.load(path, width, 900, mobile=mobile)
    return since


def requests_and_errors(browser, since: int) -> tuple[list[str], list[str]]:
    events, browser.events = browser.events, browser.events[since:]
    try:
        return browser.requests(), browser.console_errors()
    finally:
        browser.events = events


def rows(browser, table: str) -> list[dict]:
    return browser.evaluate(f"({ROWS})({table!r})")


def dots(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def test_the_report_page_offline(world, browser, shots, tmp_path) -> None:
    page = tmp_path / "laporan.html"
    world.run("report", "--ledger", world.ledger, "--out", page, "--month", rw.MONTH)
    since = open_page(browser, page)
    requests, errors = requests_and_errors(browser, since)
    assert requests == [page.resolve().as_uri()]  # the page itself and nothing else
    assert errors == []

    # the numbers as rendered, against the ledger
    people = rw.expected_people(world.ledger, rw.MONTH)
    premium = rw.expected_premium(world.ledger)
    kpis = browser.evaluate(
        "Object.fromEntries([...document.querySelectorAll('[data-kpi]')].map(k => "
        "[k.dataset.kpi, {v: k.dataset.v, text: k.querySelector('.value').textContent}]))"
    )
    assert kpis["people"] == {"v": str(sum(people.values())), "text": dots(sum(people.values()))}
    month_premium = sum(v for (m, _), v in premium.items() if m == rw.MONTH)
    assert kpis["premium_month"]["text"] == f"Rp {dots(month_premium)}"
    live = rw.query(
        world.ledger, "SELECT SUM(total_premium), COUNT(*) FROM batches WHERE status = 'done'"
    )[0]
    assert kpis["committed"]["text"] == f"Rp {dots(live[0])}" and kpis["batches"]["v"] == "4"
    quota = {r["decree"]["v"]: r for r in rows(browser, "quota")}
    assert {d: int(r["people"]["v"]) for d, r in quota.items()} == people
    assert quota[RT]["people"]["text"] == dots(people[RT])
    assert quota[RT]["quota"]["text"] == "12.872" and quota[RT]["share"]["text"] == "1,1%"
    assert quota[OJOL]["premium_month"]["text"] == dots(people[OJOL] * 16_800)
    shown = {}
    for table in browser.evaluate(
        "[...document.querySelectorAll('table[data-table=months]')].map(t => t.dataset.key)"
    ):
        got = browser.evaluate(
            f'[...document.querySelectorAll(\'table[data-table=months][data-key="{table}"]'
            " tbody tr')].map(tr => [tr.querySelector('[data-k=month]').dataset.v,"
            " tr.querySelector('[data-k=premium]').textContent])"
        )
        shown |= {(m, table): int(text.replace(".", "")) for m, text in got}
    assert shown == premium
    expected_senders = rw.expected_rejects(world)
    senders = {r["sender"]["text"]: r for r in rows(browser, "senders")}
    assert {s: int(r["rejected"]["text"]) for s, r in senders.items()} == {
        s: e["rejected"] for s, e in expected_senders.items()
    }
    assert rw.TRICKY in senders  # shown as the text it is
    assert browser.evaluate("document.querySelectorAll('script').length") == 0

    # the charts drew, and the page fits the laptop and the phone without sideways scrolling
    sizes = browser.evaluate(
        "[...document.querySelectorAll('figure.chart svg')].map(s => s.getBoundingClientRect()"
        ".width)"
    )
    assert len(sizes) == 5 and min(sizes) > 300
    assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    desktop = browser.screenshot(shots / "report-desktop.png", 1280)
    open_page(browser, page, 390, mobile=True)
    assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert browser.evaluate(
        "[...document.querySelectorAll('figure.chart svg')].every(s =>"
        " s.getBoundingClientRect().right <= window.innerWidth)"
    )
    phone = browser.screenshot(shots / "report-phone.png", 390, mobile=True)
    for shot in (desktop, phone):
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    assert pdf_pages(browser.pdf()) >= 2  # it prints (several A4 pages for this ledger)


def test_the_berita_acara_prints_on_one_page(world, browser, shots, tmp_path) -> None:
    for batch, lang in (("2", "id"), ("perwako-batam-49-2025_2025-06_2025-12_001", "en")):
        ba = tmp_path / f"ba-{lang}.html"
        world.run(
            "report",
            "--ledger",
            world.ledger,
            "--berita-acara",
            ba,
            "--batch",
            batch,
            "--lang",
            lang,
        )
        since = open_page(browser, ba, 900)
        assert requests_and_errors(browser, since) == ([ba.resolve().as_uri()], [])
        total = browser.evaluate("document.querySelector('[data-k=total]').dataset.v")
        expected = rw.query(
            world.ledger,
            "SELECT total_premium FROM batches WHERE id = ? OR folder LIKE ?",
            batch,
            f"%/{batch}",
        )[0][0]
        assert int(total) == expected
        words = browser.evaluate("document.querySelector('[data-k=words]').textContent")
        from jamsos_cli.render.numbers import rupiah_in_words

        assert rupiah_in_words(expected) in words
        assert pdf_pages(browser.pdf()) == 1
        browser.print_view(shots / f"berita-acara-{lang}.png")


def test_a_berita_acara_with_the_most_rows_still_fits_one_page(world, browser, tmp_path) -> None:
    """The worst case the page allows: the longest kecamatan list (12 and "other") with long
    names, a long folder and ledger path."""
    from jamsos_cli import decrees, ledger
    from jamsos_cli.office_report import aggregate, berita_acara

    with ledger.opened(world.ledger) as book:
        data = aggregate.collect(
            book,
            ledger_path="/srv/" + "jamsos-kota-batam/" * 6 + "ledger.sqlite",
            decrees=decrees.all_decrees(),
        )
    areas = pl.DataFrame(
        {
            "batch_id": [2] * 30,
            "kecamatan_code": [f"99.99.{i:02d}" for i in range(30)],
            "kecamatan": [f"Kecamatan Dengan Nama Sangat Panjang {i}" for i in range(30)],
            "people": list(range(60, 30, -1)),
        },
        schema=data.batch_areas.schema,
    )
    page = tmp_path / "ba-long.html"
    page.write_text(berita_acara.render(dataclasses.replace(data, batch_areas=areas), "2", "id"))
    since = open_page(browser, page, 900)
    assert requests_and_errors(browser, since)[1] == []
    assert browser.evaluate("document.querySelectorAll('.areas [data-v]').length") == 13
    assert pdf_pages(browser.pdf()) == 1


def test_a_ledger_with_no_live_batch(world, browser, tmp_path) -> None:
    src = roster(tmp_path / "rt.csv", range(3))
    world.run(*build_args(tmp_path, src, extra=("--quiet",)))
    ledger = tmp_path / "ledger.sqlite"
    world.run("ledger", "void", "1", "--ledger", ledger, "--yes")
    page = tmp_path / "empty.html"
    world.run("report", "--ledger", ledger, "--out", page, "--xlsx", tmp_path / "empty.xlsx")
    since = open_page(browser, page)
    assert requests_and_errors(browser, since)[1] == []
    assert browser.evaluate("document.querySelector('[data-note=empty]') !== null")
