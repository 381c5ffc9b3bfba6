"""ui/text.py, the one helper for untrusted text: exact outputs."""
from __future__ import annotations

import string

import pandas as pd
import pytest

from tests.support.payloads import BIDI_CONTROLS, PAYLOADS
from ui.text import CELL_LIMIT, INLINE_LIMIT, WORD_JOINER, cell, plain, plain_frame, unescape


def test_plain_escapes_every_ascii_punctuation_and_breaks_autolinks():
    assert plain("[x](http://e.example/) $a$ :red[b]") == (
        "\\[x\\]\\(http" + WORD_JOINER + "\\:\\/\\/e\\.example\\/\\) \\$a\\$ \\:red\\[b\\]")
    assert plain(":smile: 10:30") == "\\:smile\\: 10\\:30"
    assert plain("www.e.example a@b.example") == f"www{WORD_JOINER}\\.e\\.example a\\@{WORD_JOINER}b\\.example"
    assert plain(string.punctuation) == "".join("\\" + c + (WORD_JOINER if c == "@" else "") for c in string.punctuation)
    assert plain("김*수 상회") == "김\\*수 상회"
    assert plain("line one\nline two\ttab") == "line one line two tab"
    assert plain(None) == "" and plain(12) == "12"


@pytest.mark.parametrize("payload", list(PAYLOADS), ids=list(PAYLOADS))
def test_plain_shows_exactly_the_cell_text(payload):
    text = PAYLOADS[payload]
    assert unescape(plain(text)) == cell(text, INLINE_LIMIT).replace("\n", " ")
    assert not [c for c in BIDI_CONTROLS if c in plain(text) or c in cell(text)]


def test_cell_shows_controls_and_cuts_long_values():
    assert cell("a\u202eb\u2066c\u2069") == "a⟨U+202E⟩b⟨U+2066⟩c⟨U+2069⟩"
    assert cell("a\x00b\x7fc\nd\te") == "a\ufffdb\ufffdc\nd\te"
    assert cell("x" * (CELL_LIMIT + 5)) == "x" * CELL_LIMIT + "… (+5)"
    assert cell("x" * 100_000, None) == "x" * 100_000
    assert cell("[x](http://e.example/)") == "[x](http://e.example/)"  # plain elements draw it as is


def test_plain_frame_changes_only_text_cells_that_need_it():
    frame = pd.DataFrame({"name": ["ok", "bad\u202e", "x" * (CELL_LIMIT + 1)], "n": [1, 2, 3],
                          "mixed": [None, 1.5, "fine"]}, index=[7, 7, 9])
    out = plain_frame(frame)
    assert out["name"].tolist() == ["ok", "bad⟨U+202E⟩", "x" * CELL_LIMIT + "… (+1)"]
    assert out["n"].tolist() == [1, 2, 3] and out["mixed"].tolist()[1:] == [1.5, "fine"]
    assert frame["name"][1:2].tolist() == ["bad\u202e"]  # the input is left as it was
    clean = pd.DataFrame({"name": ["a", "b"]})
    assert plain_frame(clean) is clean
