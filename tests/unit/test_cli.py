"""The command line: --help, and the offline preview a newcomer runs first."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

from bot.articles.parsing import parse_article
from bot.telegram.limits import CAPTION_LIMIT
from bot.texts import RU

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "tests" / "fixtures" / "seed_article.txt"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # No token, no settings, no network: only what a fresh checkout has.
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_lists_subcommands(tmp_path: Path) -> None:
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "run" in result.stdout and "preview" in result.stdout


def test_preview_renders_post_and_full_text_offline(tmp_path: Path) -> None:
    result = run_cli("preview", str(SEED), "--photo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    content = parse_article(SEED.read_text(encoding="utf-8"))
    assert f"<b>{content.title}</b>" in out
    assert "Фото: Акорда" in out and "[ Читать полностью ]" in out
    for paragraph in content.paragraphs:
        assert paragraph in out
    assert "Считаете ли Вы необходимым любое переименование проспекта Гагарина?" in out
    # The headings come from the catalogue, the limit from Telegram's limits.
    assert f"/{CAPTION_LIMIT})" in out.splitlines()[1]
    assert RU.preview_full_text_heading.format(count=1) in out
    assert RU.preview_poll_heading in out


def test_preview_of_a_missing_or_bad_file_is_one_line(tmp_path: Path) -> None:
    missing = run_cli("preview", "nope.txt", cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    binary = tmp_path / "photo.jpg"
    binary.write_bytes(b"\xff\xd8\xff\xe0")
    bad = run_cli("preview", str(binary), cwd=tmp_path)
    assert bad.returncode == 2 and "Нужен текстовый файл" in bad.stderr


def test_import_archive_from_the_command_line(tmp_path: Path) -> None:
    """Plain progress lines when the output is no terminal, then the report; the second
    run finds every page there already."""
    zipped = tmp_path / "archive.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("seed.txt", SEED.read_bytes())
        archive.writestr("seed.html", (SEED.parent / "seed_article.html").read_bytes())
        archive.writestr("empty.html", b"<html></html>")
    first = run_cli("import-archive", str(zipped), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        RU.archive_progress.format(done=3, total=3, skipped=2),
        RU.archive_done.format(imported=1, duplicates=1, bad=1),
        "",
        RU.archive_bad_heading,
        RU.archive_bad_line.format(name="empty.html", reason=RU.archive_bad_reason("not_article")),
    ]
    again = run_cli("import-archive", str(zipped), cwd=tmp_path)
    assert RU.archive_done.format(imported=0, duplicates=2, bad=1) in again.stdout
    with sqlite3.connect(tmp_path / "data" / "newsroom.sqlite3") as db:
        rows = db.execute("SELECT status, channel_message_id FROM articles").fetchall()
    assert rows == [("archived", None)]


def test_import_archive_of_a_missing_or_bad_file_is_one_line(tmp_path: Path) -> None:
    missing = run_cli("import-archive", "nope.zip", cwd=tmp_path)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    refused = run_cli("import-archive", str(bad), cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == RU.archive_refusal("not_zip", 0) + "\n"
