"""``python -m cb_core report validation``: writes the pack from a book folder and a model folder; bad
arguments are refused with a message that names the problem."""
from __future__ import annotations

import dataclasses
import html
import json

import pytest

from cb_core.cli.commands import main
from cb_core.data import write_book
from cb_core.features import month_index
from cb_core.i18n import t
from cb_core.loans import training_end


@pytest.fixture(scope="module")
def folders(small_book, trained, tmp_path_factory):
    from cb_core.model import save_bundle

    root = tmp_path_factory.mktemp("report_cli")
    write_book(small_book, root / "book", "parquet")
    write_book(dataclasses.replace(small_book, loans=None, loan_months=None, _fingerprint=None), root / "no_loans",
               "parquet")
    save_bundle(trained[0], trained[1], root / "model")
    return root


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_writes_the_pack(folders, tmp_path, capsys, lang, trained, small_book):
    out = tmp_path / f"pack_{lang}.html"
    code = main(["report", "validation", "--data", str(folders / "book"), "--model", str(folders / "model"),
                 "--out", str(out), "--lang", lang])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["out"] == str(out) and summary["lang"] == lang and summary["model"] == trained[0].version
    page = out.read_text(encoding="utf-8")
    assert f'<html lang="{lang}">' in page and f"<h1>{html.escape(t('bp_pack_title', lang))}</h1>" in page
    assert f"<h2>{html.escape(t('bp_sec_stability', lang))}</h2>" in page
    # every month after the training window up to the book's last month was scored
    end = month_index(training_end(trained[0].card))
    assert summary["months_scored"] == month_index(small_book.last_month) - end
    assert summary["loans"] == len(small_book.loans)


def _fails(capsys, *argv: str) -> str:
    assert main(list(argv)) == 2
    return capsys.readouterr().err


def test_bad_arguments_are_named(folders, tmp_path, capsys):
    book, model = str(folders / "book"), str(folders / "model")
    assert "--out must end in .html; got pack.txt" in _fails(
        capsys, "report", "validation", "--data", book, "--model", model, "--out", str(tmp_path / "pack.txt"))
    assert "model folder not found" in _fails(
        capsys, "report", "validation", "--data", book, "--model", str(tmp_path / "nope"), "--out",
        str(tmp_path / "p.html"))
    assert "no loans and loan_months" in _fails(
        capsys, "report", "validation", "--data", str(folders / "no_loans"), "--model", model, "--out",
        str(tmp_path / "p.html"))
    assert not (tmp_path / "p.html").exists() and not (tmp_path / "pack.txt").exists()
    with pytest.raises(SystemExit) as exit_:
        main(["report", "validation", "--data", book, "--model", model, "--out", str(tmp_path / "p.html"),
              "--lang", "fr"])
    assert exit_.value.code == 2 and "invalid choice: 'fr'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["report"])
    assert "KIND" in capsys.readouterr().err
