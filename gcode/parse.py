"""A vectorized parser for Marlin-flavour G-code.

The text is cut into blocks of about BLOCK_BYTES whole lines (so the working
arrays stay in cache) and each block is tokenized at once with numpy: comments
(``;``) and checksums (``*cs``) are dropped with a running sum over their spans,
every byte is classified through a lookup table, and the numbers of all words
are read eight digits at a time in uint64 arithmetic (SWAR), giving exactly the
double ``float()`` gives.  Lines that need more care (parenthesis comments,
Klipper-style named commands, stray characters, text arguments, numbers with
more than eight digits on a side) are few; they take a per-line Python path
that reports malformed lines by number instead of failing.  The result is one
row per source line.

``iter_parse`` reads a file in blocks of whole lines and yields one
:class:`ParsedGcode` per block, for files too large to hold twice in memory.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gcode.framing import checksum
from gcode.numbers import read_numbers

logger = logging.getLogger(__name__)

# Byte classes of the fast path.
_OTHER, _NUM, _LETTER, _SPACE, _NEWLINE, _POINT = 0, 1, 2, 3, 4, 5
_CLASS = np.zeros(256, np.uint8)
_CLASS[ord("0") : ord("9") + 1] = _NUM
_CLASS[[ord("-"), ord("+")]] = _NUM
_CLASS[ord(".")] = _POINT
_CLASS[ord("A") : ord("Z") + 1] = _LETTER
_CLASS[ord("a") : ord("z") + 1] = _LETTER
_CLASS[[ord(" "), ord("\t"), ord("\r"), ord("\f"), ord("\v")]] = _SPACE
_CLASS[ord("\n")] = _NEWLINE

_WORD_RE = re.compile(r"\s*([A-Za-z])\s*([-+]?(?:\d+\.?\d*|\.\d+))?")
_EXTENDED_RE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*[A-Za-z_][A-Za-z0-9_]*)(?=\s|=|$)")

_NUMBER_CHARS = frozenset("0123456789.+-")
_QUOTED_RE = re.compile(r'"[^"]*"')  # quoted string arguments (M862.3 P "MK3S") are skipped

# Commands whose argument is free text (file names, messages): no words after them.
TEXT_COMMANDS = frozenset({0, 1, 16, 23, 28, 30, 32, 33, 117, 118, 928})


@dataclass(frozen=True)
class ParseIssue:
    """A malformed line: 1-based line number and what was wrong."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True, eq=False)
class ParsedGcode:
    """One row per source line.

    cmd_letter : (n_lines,) uint8, ASCII code of G, M or T; 0 where the line has no command
    cmd_number : (n_lines,) float64, the command's number (``G1`` -> 1.0); NaN where none
    params     : letter -> (n_lines,) float64, the word's value in file units; NaN where absent
    flags      : letter -> (k,) int64, sorted 0-based line indices where the letter stands
                 without a value (``G28 X``)
    extended   : (0-based line, NAME, arguments) of Klipper-style named commands
                 (``SET_VELOCITY_LIMIT ACCEL=3000`` -> (k, "SET_VELOCITY_LIMIT", "ACCEL=3000"))
    issues     : malformed lines, reported and otherwise skipped
    first_line : 0-based line number of row 0 in the whole file (for ``iter_parse`` blocks)
    """

    n_lines: int
    cmd_letter: np.ndarray
    cmd_number: np.ndarray
    params: Mapping[str, np.ndarray]
    flags: Mapping[str, np.ndarray] = field(default_factory=dict)
    extended: tuple[tuple[int, str, str], ...] = ()
    issues: tuple[ParseIssue, ...] = ()
    first_line: int = 0

    def is_cmd(self, letter: str, number: float) -> np.ndarray:
        """(n_lines,) bool: rows whose command is ``letter`` + ``number`` (``is_cmd("G", 1)``)."""
        return (self.cmd_letter == ord(letter)) & (self.cmd_number == number)

    def param(self, letter: str) -> np.ndarray:
        """(n_lines,) float64 values of one word letter; all NaN if the file never uses it."""
        column = self.params.get(letter)
        if column is None:
            return np.full(self.n_lines, np.nan)
        return column

    def has(self, letter: str) -> np.ndarray:
        """(n_lines,) bool: the letter appears on the line, with or without a value."""
        mask = ~np.isnan(self.param(letter))
        bare = self.flags.get(letter)
        if bare is not None and len(bare):
            mask[bare] = True
        return mask

    @property
    def n_commands(self) -> int:
        """G/M/T commands plus Klipper-style named commands."""
        return int(np.count_nonzero(self.cmd_letter)) + len(self.extended)


def parse(source: str | bytes) -> ParsedGcode:
    """Parse a whole G-code text (str or bytes) into one row per line."""
    if isinstance(source, str):
        source = source.encode("utf-8", "surrogateescape")
    return _parse_buffer(_without_bom(source), 0)


def _without_bom(buf: bytes) -> bytes:
    """A UTF-8 byte order mark is not code."""
    return buf[3:] if buf.startswith(b"\xef\xbb\xbf") else buf


def _parse_buffer(buf: bytes, first_line: int) -> ParsedGcode:
    """Parse in cache-sized blocks of whole lines and join the rows."""
    parts = []
    for block in _blocks(buf, BLOCK_BYTES):
        parts.append(_parse_bytes(block, first_line))
        first_line += parts[-1].n_lines
    return concat(parts)


def _blocks(buf: bytes, size: int) -> Iterator[bytes]:
    """Pieces of about ``size`` bytes that end at line ends (the last one may not)."""
    start = 0
    while start < len(buf) or start == 0:
        cut = buf.find(b"\n", start + size)
        end = len(buf) if cut < 0 else cut + 1
        yield buf[start:end]
        start = end
        if start >= len(buf):
            break


def concat(parts: list[ParsedGcode]) -> ParsedGcode:
    """One ParsedGcode of consecutive blocks (each block's ``first_line`` already set)."""
    if len(parts) == 1:
        return parts[0]
    n = sum(p.n_lines for p in parts)
    letters = sorted({letter for p in parts for letter in p.params})
    params = {
        letter: np.concatenate([p.params.get(letter, np.full(p.n_lines, np.nan)) for p in parts])
        for letter in letters
    }
    flag_letters = sorted({letter for p in parts for letter in p.flags})
    offset = np.cumsum([0] + [p.n_lines for p in parts])
    flags = {
        letter: np.concatenate(
            [p.flags[letter] + offset[k] for k, p in enumerate(parts) if letter in p.flags]
        )
        for letter in flag_letters
    }
    return ParsedGcode(
        n_lines=n,
        cmd_letter=np.concatenate([p.cmd_letter for p in parts]),
        cmd_number=np.concatenate([p.cmd_number for p in parts]),
        params=params,
        flags=flags,
        extended=tuple(
            (row + offset[k], name, args)
            for k, p in enumerate(parts)
            for row, name, args in p.extended
        ),
        issues=tuple(issue for p in parts for issue in p.issues),
        first_line=parts[0].first_line,
    )


def parse_file(path: str | Path) -> ParsedGcode:
    """Read and parse a G-code file."""
    return parse(Path(path).read_bytes())


def iter_parse(stream: io.BufferedIOBase, block_bytes: int = 8 << 20) -> Iterator[ParsedGcode]:
    """Parse a binary stream block by block; each block holds whole lines.

    ``first_line`` of each yielded block gives its offset in the file.
    """
    first_line = 0
    carry = b""
    while True:
        chunk = stream.read(block_bytes)
        if not chunk:
            break
        data = carry + chunk if first_line or carry else _without_bom(chunk)
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            carry = data
            continue
        carry = data[cut:]
        parsed = _parse_buffer(data[:cut], first_line)
        first_line += parsed.n_lines
        yield parsed
    if carry:
        yield _parse_buffer(carry, first_line)


# --- fast path -------------------------------------------------------------------------

BLOCK_BYTES = 1 << 18  # parse() works through the text in blocks of whole lines


@dataclass
class _Words:
    """Flat word arrays: line (int64, 0-based), letter (uint8 upper-case ASCII), value."""

    line: np.ndarray
    letter: np.ndarray
    value: np.ndarray


def _strip_comments(buf: bytes) -> tuple[np.ndarray, int, np.ndarray]:
    """(code bytes with a leading and a trailing newline, number of lines, checksummed rows).

    Everything from the first ``;`` or ``*`` of a line to its end is dropped; the
    rows where that first character is ``*`` carry a checksum to verify.
    """
    data = np.frombuffer(buf, np.uint8)
    newlines = np.flatnonzero(data == 10)
    n_lines = len(newlines) + (1 if len(data) and data[-1] != 10 else 0)
    cut = np.flatnonzero((data == 59) | (data == 42))
    checked = np.zeros(0, np.int64)
    if len(cut):
        row = np.searchsorted(newlines, cut)
        first = np.ones(len(cut), bool)
        first[1:] = row[1:] != row[:-1]
        starts = cut[first]
        checked = row[first][data[starts] == 42]
        ends = np.append(newlines, len(data))[row[first]]
        inside = np.zeros(len(data) + 1, np.int8)
        inside[starts] = 1
        inside[ends] -= 1
        data = data[np.cumsum(inside[:-1], dtype=np.int8) == 0]
    code = np.empty(len(data) + 2, np.uint8)
    code[0] = code[-1] = 10
    code[1:-1] = data
    return code, n_lines, checked


@dataclass
class _Scan:
    """Bytes that end numbers, classified (arrays over those boundary bytes unless noted).

    boundary     : byte offsets of every byte that is not a digit or a sign
    cls          : their byte class
    row          : 0-based row each belongs to
    digits_after : digits follow it
    point_next   : the next boundary is the decimal point of this letter's number
    slow         : (n_lines,) rows the fast path cannot take
    """

    boundary: np.ndarray
    cls: np.ndarray
    row: np.ndarray
    digits_after: np.ndarray
    point_next: np.ndarray
    slow: np.ndarray


def _scan(raw: np.ndarray, n_lines: int, checked: np.ndarray) -> _Scan:
    cls = _CLASS[raw]
    boundary = np.flatnonzero(cls != _NUM)
    bcls = cls[boundary]
    is_newline = bcls == _NEWLINE
    # The leading newline opens row 0; a newline belongs to the row it closes.
    row_after = np.cumsum(is_newline) - 1
    row = row_after - is_newline
    is_letter = bcls == _LETTER
    gap = np.diff(boundary)
    digits_after = np.append(gap > 1, False)
    # A decimal point belongs to a number when it comes right after the number's
    # letter and integer digits, i.e. the boundary before it is that letter.
    after_letter = np.insert(is_letter[:-1], 0, False)
    is_point = bcls == _POINT
    number_point = is_point & after_letter
    # Stray characters and points, digits without a letter, letters glued to letters
    # (named commands, text) and checksummed lines take the slow path.
    slow = np.zeros(n_lines + 1, bool)
    slow[row[(bcls == _OTHER) | (is_point & ~after_letter)]] = True
    slow[row_after[digits_after & ~is_letter & ~number_point]] = True
    slow[row[np.append(is_letter[:-1] & is_letter[1:] & (gap == 1), False)]] = True
    slow[checked] = True
    point_next = np.append(number_point[1:], False)
    return _Scan(boundary, bcls, row, digits_after, point_next, slow[:n_lines])


def _fast_words(raw: np.ndarray, scan: _Scan) -> _Words:
    """The words of every row the fast path takes."""
    letter_idx = np.flatnonzero(scan.cls == _LETTER)
    word_row = scan.row[letter_idx]
    if scan.slow.any():
        keep = ~scan.slow[word_row]
        letter_idx, word_row = letter_idx[keep], word_row[keep]
    with_value = scan.digits_after[letter_idx] | scan.point_next[letter_idx]
    values = np.full(len(letter_idx), np.nan)
    if with_value.any():
        at = letter_idx[with_value]
        boundary = scan.boundary
        int_end = boundary[at + 1]
        after_point = boundary[np.minimum(at + 2, len(boundary) - 1)]
        frac_end = np.where(scan.point_next[at], after_point, int_end)
        values[with_value] = read_numbers(raw, boundary[at] + 1, int_end, frac_end)
    letters = raw[scan.boundary[letter_idx]] & 0xDF  # upper case
    return _Words(word_row.astype(np.int64), letters, values)


def _parse_bytes(buf: bytes, first_line: int) -> ParsedGcode:
    raw, n_lines, checked = _strip_comments(buf)
    scan = _scan(raw, n_lines, checked)
    words = _fast_words(raw, scan)
    issues: list[ParseIssue] = []
    extended: list[tuple[int, str, str]] = []
    slow_rows = np.flatnonzero(scan.slow)
    if len(slow_rows):
        logger.debug("lines %d..: %d on the slow path", first_line + 1, len(slow_rows))
        words = _merge(words, _slow_lines(buf, slow_rows, first_line, issues, extended))
    return _rows(words, n_lines, first_line, issues, extended)


def _line_heads(line: np.ndarray) -> np.ndarray:
    """(n_words,) bool: the first word of each line (words sorted by line)."""
    first = np.ones(len(line), bool)
    first[1:] = line[1:] != line[:-1]
    return first


def _drop_bad_numbers(words: _Words, first_line: int, issues: list[ParseIssue]) -> _Words:
    """Words without the lines that hold a malformed number (reported in ``issues``)."""
    bad = np.isinf(words.value)
    if not bad.any():
        return words
    bad_lines = np.unique(words.line[bad])
    issues.extend(
        ParseIssue(first_line + line + 1, "malformed number") for line in bad_lines.tolist()
    )
    ok = ~np.isin(words.line, bad_lines)
    return _Words(words.line[ok], words.letter[ok], words.value[ok])


def _commands(
    words: _Words, first: np.ndarray, n_lines: int, first_line: int, issues: list[ParseIssue]
) -> tuple[np.ndarray, np.ndarray]:
    """(cmd_letter, cmd_number) per line from each line's first word (G, M or T with a value)."""
    cmd_letter = np.zeros(n_lines, np.uint8)
    cmd_number = np.full(n_lines, np.nan)
    heads = np.flatnonzero(first)
    letter, value, line = words.letter[heads], words.value[heads], words.line[heads]
    valid = ((letter == ord("G")) | (letter == ord("M")) | (letter == ord("T"))) & ~np.isnan(value)
    for k in np.flatnonzero(~valid).tolist():
        issues.append(
            ParseIssue(
                first_line + int(line[k]) + 1,
                f"line does not start with a command ({chr(letter[k])})",
            )
        )
    cmd_letter[line[valid]] = letter[valid]
    cmd_number[line[valid]] = value[valid]
    return cmd_letter, cmd_number


def _columns(
    letter: np.ndarray, line: np.ndarray, value: np.ndarray, n_lines: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Parameter words -> per-letter (n_lines,) value columns, and bare-letter line lists."""
    order = np.argsort(letter, kind="stable")
    line, value = line[order], value[order]
    counts = np.bincount(letter, minlength=256)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    params: dict[str, np.ndarray] = {}
    flags: dict[str, np.ndarray] = {}
    for code in np.flatnonzero(counts).tolist():
        rows, values = line[bounds[code] : bounds[code + 1]], value[bounds[code] : bounds[code + 1]]
        column = np.full(n_lines, np.nan)
        column[rows] = values
        params[chr(code)] = column
        bare = np.isnan(values)
        if bare.any():
            flags[chr(code)] = np.unique(rows[bare])
    return params, flags


def _rows(
    words: _Words,
    n_lines: int,
    first_line: int,
    issues: list[ParseIssue],
    extended: list[tuple[int, str, str]],
) -> ParsedGcode:
    """Turn flat words into per-line command and parameter columns."""
    words = _drop_bad_numbers(words, first_line, issues)
    first = _line_heads(words.line)
    # A leading N<number> is a line number, not a command.
    line_numbers = first & (words.letter == ord("N"))
    if line_numbers.any():
        keep = ~line_numbers
        words = _Words(words.line[keep], words.letter[keep], words.value[keep])
        first = _line_heads(words.line)
    cmd_letter, cmd_number = _commands(words, first, n_lines, first_line, issues)
    param = ~first & (cmd_letter[words.line] != 0)
    text_cmd = (cmd_letter == ord("M")) & np.isin(cmd_number, list(TEXT_COMMANDS))
    if text_cmd.any():
        param &= ~text_cmd[words.line]
    params, flags = _columns(words.letter[param], words.line[param], words.value[param], n_lines)
    issues.sort(key=lambda issue: issue.line)
    return ParsedGcode(
        n_lines=n_lines,
        cmd_letter=cmd_letter,
        cmd_number=cmd_number,
        params=params,
        flags=flags,
        extended=tuple(extended),
        issues=tuple(issues),
        first_line=first_line,
    )


# --- slow path -------------------------------------------------------------------------


def _merge(a: _Words, b: _Words) -> _Words:
    line = np.concatenate([a.line, b.line])
    order = np.argsort(line, kind="stable")
    return _Words(
        line[order],
        np.concatenate([a.letter, b.letter])[order],
        np.concatenate([a.value, b.value])[order],
    )


def _slow_lines(
    buf: bytes,
    rows: np.ndarray,
    first_line: int,
    issues: list[ParseIssue],
    extended: list[tuple[int, str, str]],
) -> _Words:
    """Parse the given 0-based rows one by one in Python."""
    lines = buf.split(b"\n")
    out_line: list[int] = []
    out_letter: list[int] = []
    out_value: list[float] = []
    for row in rows.tolist():
        text = lines[row].decode("utf-8", "replace")
        try:
            words, name = parse_line(text)
        except ValueError as exc:
            issues.append(ParseIssue(first_line + row + 1, str(exc)))
            continue
        if name is not None:
            code = strip_comments(text).strip()
            extended.append((row, name, code[len(name) :].strip()))
            continue
        for letter, value in words:
            out_line.append(row)
            out_letter.append(ord(letter))
            out_value.append(np.nan if value is None else value)
    return _Words(
        np.asarray(out_line, np.int64),
        np.asarray(out_letter, np.uint8),
        np.asarray(out_value, np.float64),
    )


def named_arguments(args: str) -> dict[str, str]:
    """``KEY=VALUE`` arguments of a named command, keys upper-case (``ACCEL=3000``)."""
    out: dict[str, str] = {}
    for part in args.split():
        key, sep, value = part.partition("=")
        if sep:
            out[key.upper()] = value
    return out


def strip_comments(text: str) -> str:
    """The code part of one line: without ``;`` comments, ``( )`` comments and ``*checksum``."""
    out = []
    depth = 0
    for char in text:
        if depth:
            depth += char == "("
            depth -= char == ")"
            continue
        if char in ";*":
            break
        if char == "(":
            depth = 1
            continue
        out.append(char)
    return "".join(out)


_CHECKSUM_RE = re.compile(r"^([^;*]*)\*(\d*)")


def _verify_checksum(text: str) -> None:
    match = _CHECKSUM_RE.match(text)
    if match is None:
        return
    stated = match.group(2)
    if not stated or int(stated) != checksum(match.group(1)):
        raise ValueError(f"checksum mismatch (*{stated or '?'})")


def parse_line(text: str) -> tuple[list[tuple[str, float | None]], str | None]:
    """Parse one line: ([(LETTER, value or None), ...], extended command name or None).

    Raises ValueError with a short reason when the line is malformed, or when it
    carries a ``*checksum`` that does not match (XOR of the bytes before ``*``).
    """
    _verify_checksum(text)
    code = _QUOTED_RE.sub("", strip_comments(text)).strip()
    if not code:
        return [], None
    # Klipper: a first word that is not one letter followed by a number names a command.
    match = _EXTENDED_RE.match(code)
    if match and code[1:2] not in _NUMBER_CHARS:
        return [], match.group(1).upper()
    words: list[tuple[str, float | None]] = []
    pos = 0
    while pos < len(code):
        match = _WORD_RE.match(code, pos)
        if match is None or match.end() == pos:
            rest = code[pos:].strip()
            if not rest:
                break
            raise ValueError(f"unexpected text {rest[:20]!r}")
        letter = match.group(1).upper()
        number = match.group(2)
        pos = match.end()
        if code[pos : pos + 1] in _NUMBER_CHARS:
            raise ValueError("malformed number")
        words.append((letter, float(number) if number is not None else None))
        if len(words) == 1 or (len(words) == 2 and words[0][0] == "N"):
            head = words[-1]
            if head[0] == "M" and head[1] in TEXT_COMMANDS:
                return words, None
    return words, None
