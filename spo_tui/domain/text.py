"""Free text going in and coming out: what input may hold, and how stored text is shown safely.

Text typed into a form, passed as an argument or read from an imported cell may not hold
*control characters*: the C0 controls (U+0000–U+001F, except a tab or a line break in a field
that holds several lines), DEL (U+007F), the C1 controls (U+0080–U+009F), the Unicode line and
paragraph separators outside a multi-line field, the bidirectional embeddings, overrides and
isolates (U+202A–U+202E, U+2066–U+2069: they make text read in a different order from the one it
is stored in), and lone surrogates (what an argument that is not valid UTF-8 becomes in Python).
A terminal obeys such characters (``ESC ] 0 ;`` renames its window, ``ESC [ 2 J`` clears it), so
:func:`check_text` refuses them with a message naming the field.

Text read back from the store is shown through :func:`visible`, which writes any such character
as an escape (``\\x1b``, ``\\u202e``): an old database or another program may have stored them.
:func:`csv_cell` also keeps a spreadsheet from running a cell as a formula, and :func:`json_text`
keeps JSON exact while escaping them. Plain Python, no I/O.
"""

from __future__ import annotations

import re

from spo_tui.domain.errors import ValidationError

__all__ = [
    "FORMULA_STARTS",
    "check_text",
    "control_characters",
    "csv_cell",
    "json_text",
    "strip_controls",
    "text_problem",
    "visible",
]

_BIDI = "\u202a-\u202e\u2066-\u2069"
_SURROGATES = "\ud800-\udfff"
#: Refused in a multi-line field (after its line breaks are made ``\n``): every control but tab and newline.
_MULTI = f"\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{_BIDI}{_SURROGATES}"
#: Refused in a one-line field: the same, and tab and newline too.
_SINGLE = f"\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}{_SURROGATES}"
_MULTI_RE = re.compile(f"[{_MULTI}]")
_SINGLE_RE = re.compile(f"[{_SINGLE}]")
#: Line breaks a multi-line field accepts, each read as ``\n``: CRLF and CR (Windows and old Macs),
#: and the vertical tab, form feed, NEL and Unicode separators that word processors paste.
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")

#: What a one-line field refuses as a line break.
_BREAKS = frozenset("\n\r\x0b\x0c\x85\u2028\u2029")

#: A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV Injection"),
#: also in their full-width forms, which some spreadsheets treat alike.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch == "\n":
        return "\\n"
    if ch == "\r":
        return "\\r"
    if ch == "\t":
        return "\\t"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def control_characters(text: str, *, multiline: bool = False) -> list[tuple[int, str]]:
    """Every refused character in ``text`` as (position from 1, the character)."""
    pattern = _MULTI_RE if multiline else _SINGLE_RE
    return [(m.start() + 1, m.group()) for m in pattern.finditer(text)]


def check_text(
    value: object,
    field: str,
    label: str | None = None,
    *,
    multiline: bool = False,
    required: bool = False,
) -> str:
    """``value`` as text to store: trimmed, line breaks made ``\\n`` in a multi-line field.

    Raises ValidationError naming the field (``label``, else ``field`` with spaces) when it holds
    a control character (saying which, and where) or, if ``required``, when it is empty.
    """
    text = "" if value is None else str(value)
    if multiline:
        text = _LINE_BREAKS.sub("\n", text)
    text = text.strip()
    name = label or field.replace("_", " ")
    if required and not text:
        raise ValidationError(f"{name} is required", field=field)
    problem = text_problem(text, multiline=multiline)
    if problem:
        raise ValidationError(f"{name} {problem}", field=field)
    return text


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be stored, e.g. ``holds a control character (\\x1b) at character 5:
    remove it``; None when it can."""
    if text.isprintable():
        return None
    found = control_characters(text, multiline=multiline)
    if not found:
        return None
    position, ch = found[0]
    if ch in _BREAKS:
        return f"holds a line break at character {position}, but it takes one line: remove it"
    if ch == "\t":
        return f"holds a tab at character {position}: remove it"
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return f"{describe(ch)} at character {position}{more}: remove it"


def describe(ch: str) -> str:
    """How a message names a refused character, e.g. ``holds a control character (\\x1b)``."""
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        return f"is not valid UTF-8 text ({_escape(ch)})"
    if code in range(0x202A, 0x202F) or code in range(0x2066, 0x206A):
        return f"holds a text-direction control character ({_escape(ch)})"
    return f"holds a control character ({_escape(ch)})"


def visible(text: object, *, lines: bool = True) -> str:
    """Stored text as it may be shown: each control character written as an escape (``\\x1b``).

    With ``lines`` (the default) tabs and newlines are kept, for a field of several lines; without,
    they are escaped too (``\\t``, ``\\n``), for a table cell or a line of output. Text that holds
    none comes back unchanged.
    """
    value = "" if text is None else str(text)
    if value.isprintable():
        return value
    pattern = _MULTI_RE if lines else _SINGLE_RE
    return pattern.sub(lambda m: _escape(m.group()), value)


def strip_controls(text: str) -> str:
    """``text`` without any control character (tabs and newlines go too): for the last guard
    before the terminal, where an escape would change the width the layout gave the text."""
    return text if text.isprintable() else _SINGLE_RE.sub("", text)


def csv_cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula.

    Control characters are shown as escapes (:func:`visible`, keeping line breaks); a cell that
    starts with a formula character, after any spaces, gets a leading apostrophe, as OWASP
    advises: Excel, LibreOffice and Google Sheets then show the cell as typed, without the
    apostrophe. Quoting of commas, quotes and line breaks is the csv module's.
    """
    text = visible("" if value is None else value)
    if text.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def json_text(encoded: str) -> str:
    """JSON made with ``ensure_ascii=False`` with its control characters as ``\\uXXXX`` escapes.

    ``json.dumps`` already escapes C0 controls; DEL, C1, bidirectional controls, the line
    separators and lone surrogates it leaves raw. Outside strings JSON is plain ASCII, so every
    one of them is inside a string, where the escape means the same character: the data is exact.
    """
    if encoded.isprintable():
        return encoded
    return _SINGLE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)
