"""Untrusted text on the page: shown as the characters it is, never as markup.

Every value that comes from data or from a user (business and owner names, notes, request texts,
search text and the ``?merchant=`` query parameter, upload file names, product and partner names
from a catalog, user names, values quoted in error messages) reaches the page through this module.

Streamlit 1.67 renders GitHub-flavoured Markdown -- links, images, KaTeX ``$…$``, colour and icon
directives (``:red[…]``, ``:material/…:``), emoji shortcodes -- in the body of ``st.markdown``,
``st.caption``, ``st.title``/``header``/``subheader``, ``st.info``/``warning``/``error``/``success``,
``st.toast``, in ``st.table`` cells, in ``st.metric``'s label, value, delta and help, in ``st.tabs``,
``st.expander``, ``st.popover`` and ``st.status`` labels, in every widget's label and help, and in
``st.radio``'s options (the docstrings of ``streamlit/elements/*.py``; the front end renders them
with ``StreamlitMarkdown``). Plain text, drawn as given: ``st.dataframe``/``st.data_editor`` cells
and headers, ``st.code``, ``st.text``'s body, ``st.selectbox``/``st.multiselect`` options and a
text input's value.

So, for untrusted values:

- :func:`cell` -- for plain-text elements: bidirectional controls made visible (``⟨U+202E⟩``: a name
  must not reverse the text around it), other control characters replaced, very long values cut.
- :func:`plain` -- for an argument Streamlit renders as Markdown: :func:`cell`, on one line, with
  every ASCII punctuation character backslash-escaped (CommonMark lets any of them be escaped, and
  the escaped character is shown literally: no link, image, math, directive, HTML or table can start),
  and an invisible word joiner after ``http``/``www``/``@``: GFM links bare URLs and addresses it
  finds in the text after escapes are read (seen in Chromium: escaping alone left them live).
- :func:`plain_frame` / :func:`show_frame` -- a frame's text cells through :func:`cell`, drawn
  with ``st.dataframe`` (never ``st.table``, whose cells are Markdown).

Plotly renders a subset of HTML in hover text, titles, tick and legend labels: no chart of the app
holds data or user text today (labels come from the catalog and the model); one that does passes
``html.escape(cell(value))``, as the engine's HTML report escapes every text it writes.
"""
from __future__ import annotations

import re
import string
from typing import Any

import pandas as pd
import streamlit as st

from ui.labels import tr

#: Longest untrusted value shown inside a sentence (a warning, a caption, a metric).
INLINE_LIMIT = 200
#: Longest untrusted value shown in a table cell, an option or a code block.
CELL_LIMIT = 2000

# Unicode bidirectional formatting characters (UAX #9): embeddings, overrides, isolates, marks.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# C0 and C1 control characters and DEL, except tab and newline.
_CONTROL = "".join(chr(c) for c in [*range(0x00, 0x09), *range(0x0b, 0x20), 0x7f, *range(0x80, 0xa0)])
_NEEDS_WORK = re.compile(f"[{re.escape(_BIDI + _CONTROL)}]")
_BIDI_OR_CONTROL = re.compile(f"[{re.escape(_BIDI)}]|[{re.escape(_CONTROL)}]")
_PUNCTUATION = re.compile(f"([{re.escape(string.punctuation)}])")
_LINE_BREAKS = re.compile(r"[\t\n]+")
# GFM's autolink literals (``http://…``, ``www.…``, ``a@b.c``) are found in text *after* backslash
# escapes are read (a regex over the parsed text), so escaping cannot stop them: a WORD JOINER
# (U+2060, invisible, zero width) after the scheme, after ``www`` and after ``@`` breaks the pattern.
_FOUND_IN_TEXT = re.compile(r"(?i)(https?|ftp|mailto|xmpp)(?=:)|\b(www)(?=\.)|(@)")
WORD_JOINER = "\u2060"


def _visible(match: re.Match) -> str:
    char = match.group(0)
    return f"⟨U+{ord(char):04X}⟩" if char in _BIDI else "\ufffd"


def _cut(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… (+{len(text) - limit:,})"


def cell(value: Any, limit: int | None = CELL_LIMIT) -> str:
    """``value`` as text for an element that draws text as given (dataframe cell, select option, code).

    Parameters
    ----------
    value : Any
        The untrusted value (``None`` is shown as an empty string).
    limit : int or None
        Characters kept; a longer value is cut and says how many characters were left out.

    Returns
    -------
    str
        The text with bidirectional controls shown as ``⟨U+XXXX⟩`` and other control characters
        (but tab and newline) as ``�``.
    """
    text = "" if value is None else str(value)
    text = _cut(text, limit)
    return _BIDI_OR_CONTROL.sub(_visible, text) if _NEEDS_WORK.search(text) else text


def plain(value: Any, limit: int | None = INLINE_LIMIT) -> str:
    """``value`` escaped for an argument Streamlit renders as Markdown (see the module docstring).

    The result, rendered by Streamlit, shows the characters of ``cell(value, limit)`` on one line and
    nothing else: every ASCII punctuation character is backslash-escaped, so no Markdown, HTML,
    KaTeX or Streamlit directive can start, and an invisible WORD JOINER after ``http``/``www``/``@``
    keeps GFM from turning a URL or address into a link (it reads the text after escapes). Escaped
    colons also keep ``:smile:`` from becoming 😄 (Streamlit loads its emoji plugin only for a
    source with an unescaped shortcode; seen in Chromium).
    """
    text = _FOUND_IN_TEXT.sub(lambda m: m.group(0) + WORD_JOINER, _LINE_BREAKS.sub(" ", cell(value, limit)))
    return _PUNCTUATION.sub(r"\\\1", text)


def unescape(markdown: str) -> str:
    """The text a string made by :func:`plain` shows, word joiners left out (for tests and logs)."""
    return re.sub(f"\\\\([{re.escape(string.punctuation)}])", r"\1", markdown.replace(WORD_JOINER, ""))


def plain_frame(frame: pd.DataFrame, limit: int | None = CELL_LIMIT) -> pd.DataFrame:
    """``frame`` with every text cell through :func:`cell` (other cells, index and headers as they are)."""
    out = None
    for i, column in enumerate(frame.columns):
        values = frame.iloc[:, i]
        if not (values.dtype == object or isinstance(values.dtype, pd.StringDtype)):
            continue
        todo = [isinstance(v, str) and (bool(_NEEDS_WORK.search(v)) or (limit is not None and len(v) > limit))
                for v in values]
        if any(todo):
            out = frame.copy() if out is None else out
            out.iloc[:, i] = [cell(v, limit) if t else v for v, t in zip(values, todo)]
    return frame if out is None else out


def show_frame(frame: pd.DataFrame, **kwargs: Any) -> None:
    """``st.dataframe`` of :func:`plain_frame` (index hidden, full width unless given); a table without
    rows is said in words (Streamlit would draw an empty grid saying "empty" in English)."""
    if frame.empty:
        st.caption(tr("table_no_rows"))
        return
    st.dataframe(plain_frame(frame), **{"hide_index": True, "width": "stretch", **kwargs})
