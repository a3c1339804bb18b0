"""Every text a person reads is in the catalogue (schemas/texts/<lang>.toml), in both
languages, and nowhere else: read from the catalogue files and the source (``ast``)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from string import Formatter

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from jamsos_cli import texts
from jamsos_cli.cli import app
from jamsos_cli.cli.base import help_key
from jamsos_cli.codes import registry
from tests.test_house import SRC, call_name, modules, where

runner = CliRunner()
SECTIONS = {key.split(".")[0] for key in texts.catalogue("id")}
_KEY = re.compile(r"^([a-z]+)\.[A-Za-z0-9_.-]*$")
_FILE = re.compile(r"\.(sqlite|toml|csv|xlsx|json|lock|py|html|j2|css)$")
# The report's page templates name their words as the code does: say("office....").
TEMPLATES = SRC.parents[1] / "schemas" / "report"
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_SAY = re.compile(r'\bsay\(\s*"([^"]*)"')


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def test_both_languages_have_every_key_with_the_same_placeholders() -> None:
    indonesian, english = texts.catalogue("id"), texts.catalogue("en")
    assert set(indonesian) - set(english) == set(), "missing in en.toml"
    assert set(english) - set(indonesian) == set(), "missing in id.toml"
    for key, text in indonesian.items():
        assert text.strip() and english[key].strip(), key
        assert placeholders(text) == placeholders(english[key]), key


def test_every_finding_code_has_its_message() -> None:
    for code in registry():
        for lang in texts.LANGS:
            assert f"finding.{code}" in texts.catalogue(lang), (code, lang)
    assert set(texts.section("finding")) == set(registry())


def _key_strings():
    """(where, text, is_prefix) for every string in src that names a catalogue key: a whole
    key ("error.ledger.missing"), or the fixed start of one built in an f-string."""
    known = texts.catalogue("id")
    for path, tree in modules():
        parts = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
        for node in ast.walk(tree):
            if id(node) in parts:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text, prefix = node.value, False
                if text in known:
                    yield where(path, node), text, prefix
                    continue
            elif isinstance(node, ast.JoinedStr) and node.values:
                first = node.values[0]
                if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                    continue
                text, prefix = first.value, True
            else:
                continue
            m = _KEY.match(text)
            if m and m.group(1) in SECTIONS and not _FILE.search(text):
                yield where(path, node), text, prefix


def templates():
    """(path, text) of every report template, its Jinja comments blanked (lines kept)."""
    for path in sorted(TEMPLATES.glob("*.j2")):
        text = path.read_text(encoding="utf-8")
        yield path, _JINJA_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def _template_keys():
    """(where, key) for every key a report template names: ``say("office.page.title")``."""
    for path, text in templates():
        for m in _SAY.finditer(text):
            yield f"{path.name}:{text.count(chr(10), 0, m.start()) + 1}", m.group(1)


def test_every_key_the_code_names_is_in_the_catalogue() -> None:
    known = texts.catalogue("id")
    missing = [
        (at, text)
        for at, text, prefix in _key_strings()
        if not (any(k.startswith(text) for k in known) if prefix else text in known)
    ]
    missing += [(at, key) for at, key in _template_keys() if key not in known]
    assert not missing, missing
    assert len(list(_template_keys())) > 50  # the scan reads the templates


def test_every_key_of_the_catalogue_is_used() -> None:
    """No dead text: each key is named by the code, built from a prefix it names, or read
    from a section by its own rule (finding codes, help, pydantic types)."""
    named = {text for _, text, prefix in _key_strings() if not prefix}
    named |= {key for _, key in _template_keys()}
    prefixes = tuple(text for _, text, prefix in _key_strings() if prefix)
    by_rule = ("finding.", "help.", "pydantic.", "reason.")
    unused = [
        key
        for key in texts.catalogue("id")
        if key not in named and not key.startswith(prefixes) and not key.startswith(by_rule)
    ]
    assert not unused, unused


def _commands(command, path=()):
    yield list(path), command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_every_command_and_option_has_help_in_both_languages() -> None:
    root = get_command(app)
    for path, command in _commands(root):
        ctx = command.make_context(" ".join(["jamsos", *path]), [], resilient_parsing=True)
        names = ["command", *(p.name for p in command.get_params(ctx))]
        for name in names:
            key = help_key(path, name)
            for lang in texts.LANGS:
                assert key in texts.catalogue(lang), (path, name, lang)


def test_help_is_indonesian_unless_asked_otherwise(tmp_path) -> None:
    """--help follows the messages' rule: --lang, else the config's lang, else Indonesian
    (the locale is not read)."""
    indonesian = runner.invoke(app, ["build-batch", "--help"], env={"LANG": "en_US.UTF-8"})
    assert "Bulan pertama kepesertaan" in indonesian.stdout and "Opsi" in indonesian.stdout
    english = runner.invoke(app, ["build-batch", "--help", "--lang", "en"])
    assert "First month of coverage" in english.stdout and "Options" in english.stdout
    config = tmp_path / "jamsos.toml"
    config.write_text('lang = "en"\n', encoding="utf-8")
    by_config = runner.invoke(app, ["ledger", "--help"], env={"JAMSOS_CONFIG": str(config)})
    assert "What has been submitted" in by_config.stdout
    top = runner.invoke(app, ["--help"])
    assert "Perintah" in top.stdout and "Tampilkan versi lalu keluar." in top.stdout


def test_python_m_is_jamsos_for_help_and_the_change_log(tmp_path) -> None:
    """``python -m jamsos_cli``: click names the program in two words; the help keys and the
    command the ledger's change log records are jamsos's all the same."""
    for args in (["--help"], ["ledger", "--help"], ["ledger", "void", "--help"]):
        done = subprocess.run(
            [sys.executable, "-m", "jamsos_cli", *args], capture_output=True, text=True
        )
        assert done.returncode == 0 and "Opsi" in done.stdout, done.stderr
    target = tmp_path / "ledger.sqlite"
    for args in (["init", target], ["log", "--ledger", target, "--format", "json"]):
        done = subprocess.run(
            [sys.executable, "-m", "jamsos_cli", "ledger", *map(str, args)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    [change] = json.loads(done.stdout)["changes"]
    assert change["command"] == f"jamsos ledger init {target}"


def test_an_error_line_follows_the_same_rule() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "jamsos_cli", "build-batch", "x.csv", "--decree", "nope"]
        + ["--start", "2025-13", "--out", "o"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "tulis YYYY-MM" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "jamsos_cli", "build-batch", "x.csv", "--decree", "nope"]
        + ["--start", "2025-13", "--out", "o", "--lang", "en"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "use YYYY-MM" in done.stderr


# ------------------------------------------------------------------ nothing inline

_MARKUP = re.compile(r"\[/?[a-z ]*\]")
# Files whose texts are not for the people jamsos serves, and why.
ALLOWED: dict[str, str] = {}
_SHOWS = ("print", "echo", "write", "add_column", "add_row", "say", "show")


def _words(node: ast.AST) -> str:
    """The literal text of a string expression (f-string placeholders left out)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_words(v) for v in node.values)
    return ""


def _prose(node: ast.AST) -> bool:
    """Words a person would read: letters outside placeholders and Rich markup (a catalogue
    key, or a language code, is not prose)."""
    text = _words(node)
    if _KEY.match(text) or text in texts.LANGS:
        return False
    return bool(re.search(r"[A-Za-z]", _MARKUP.sub("", text)))


def _error_classes(trees) -> set[str]:
    """JamsosError and every class deriving from it, by name."""
    names = {"JamsosError"}
    grew = True
    while grew:
        grew = False
        for _, tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {
                        b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")
                        for b in node.bases
                    }
                    if bases & names:
                        names.add(node.name)
                        grew = True
    return names


def test_no_text_a_person_reads_is_written_inline_in_the_code() -> None:
    trees = [(p, t) for p, t in modules() if p.name not in ALLOWED]
    errors = _error_classes(trees)
    known = texts.catalogue("id")
    bad = []
    for path, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                if {"id", "en"} <= keys:
                    bad.append((where(path, node), "a dict of both languages"))
            if not isinstance(node, ast.Call):
                continue
            name = call_name(node)
            last = name.rsplit(".", 1)[-1]
            typer_call = name.startswith("typer.") or last in ("command", "callback", "Typer")
            if typer_call and any(k.arg == "help" for k in node.keywords):
                bad.append((where(path, node), "help= (help comes from help.<command>)"))
            if last in errors:
                texts_given = [a for a in node.args if _words(a)]
                for arg in texts_given:
                    if isinstance(arg, ast.JoinedStr) or (
                        _words(arg) not in known and " " in _words(arg)
                    ):
                        bad.append((where(path, node), f"{last}({_words(arg)!r})"))
            if last in _SHOWS and not name.startswith(("log.", "logging.")):
                for arg in node.args:
                    if _prose(arg) and _words(arg) not in known:
                        bad.append((where(path, node), f"{name}({_words(arg)!r})"))
    assert not bad, "\n".join(f"{w}: {what}" for w, what in bad)


def test_no_text_a_person_reads_is_written_inline_in_a_template() -> None:
    """Between the tags and the Jinja blocks of a report template there is no word; inside a
    block, no string with words either (only catalogue keys and names)."""
    bad = []
    for path, text in templates():
        for block in _JINJA.findall(text):
            for literal in re.findall(r'"([^"]*)"|\'([^\']*)\'', block):
                words = "".join(literal)
                if re.search(r"[A-Za-z]\s+[A-Za-z]", words) and words not in texts.catalogue("id"):
                    bad.append((path.name, words))
        outside = re.sub(r"<[^>]*>|&\w+;", "", _JINJA.sub("", text))
        bad += [
            (path.name, line.strip())
            for line in outside.splitlines()
            if re.search("[A-Za-z]", line)
        ]
    assert not bad, bad


def test_the_source_folder_is_what_the_scan_reads() -> None:
    assert (SRC / "texts.py").is_file() and len(list(modules())) > 30


@pytest.mark.parametrize("lang", texts.LANGS)
def test_template_texts_fit_excel(lang: str) -> None:
    """Excel's limits: a sheet name 31 characters, a validation title 32, its message 255."""
    for key in ("template.sheet", "template.instructions_sheet", "template.lists_sheet"):
        assert len(texts.say(key, lang)) <= 31
    assert len(texts.say("template.choose_title", lang)) <= 32
    assert len(texts.say("template.choose_message", lang)) <= 255
    assert len(texts.say("review.sheet", lang)) <= 31


def test_what_was_english_is_indonesian_by_default(tmp_path) -> None:
    """Defect: these were English while Indonesian is the default (issue 12)."""
    early = runner.invoke(
        app,
        ["build-batch", "x.csv", "--decree", "perwako-batam-49-2025", "--start", "2025-06"]
        + ["--end", "2025-01", "--out", str(tmp_path / "o")],
    )
    assert early.exit_code == 2 and "--end 2025-01 lebih awal dari --start 2025-06" in early.stderr
    missing = runner.invoke(app, ["validate", str(tmp_path / "nope.csv"), "--format", "json"])
    (issue,) = json.loads(missing.stdout)["issues"]
    assert issue["message"] == "Berkas tidak dapat dibaca: berkas atau folder tidak ditemukan"
    english = runner.invoke(
        app, ["validate", str(tmp_path / "nope.csv"), "--format", "json", "--lang", "en"]
    )
    assert json.loads(english.stdout)["issues"][0]["message"] == (
        "File cannot be read: file or folder not found"
    )
