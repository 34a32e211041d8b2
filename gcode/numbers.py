"""Decimal numbers of a byte buffer, read eight digits at a time (SWAR).

Each number is given by where it starts, where its integer part ends (the
decimal point, or the end) and where it ends.  A uint64 holds eight ASCII
digits; three multiply-and-shift steps turn them into an integer.  Integer and
fraction parts are exact integers, so ``(int * 10**k + frac) / 10**k`` is the
correctly rounded double, the same as ``float()`` gives.
"""

from __future__ import annotations

import re

import numpy as np

_NUMBER_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)")

# SWAR constants: eight ASCII digits in one uint64 (first character in the lowest byte).
_U = np.uint64
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], dtype=np.uint64)
_ZEROS = _U(0x3030303030303030)
_HIGH_NIBBLES = _U(0xF0F0F0F0F0F0F0F0)
_SIXES = _U(0x0606060606060606)
_PAIR = _U(0x000000FF000000FF)
_MUL1 = _U(0x000F424000000064)  # 100 + 1000000 << 32
_MUL2 = _U(0x0000271000000001)  # 1 + 10000 << 32
_POW10 = 10 ** np.arange(19, dtype=np.int64)
_POW10_FLOAT = _POW10.astype(np.float64)
_PAD = 16


def _eight_digits(window: np.ndarray, width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integers from the top ``width`` (0..8) bytes of each uint64; (values int64, all-digits)."""
    fill = _LOW_BYTES[8 - width]
    v = (window & ~fill) | (_ZEROS & fill)
    ok = ((v & _HIGH_NIBBLES) == _ZEROS) & (((v + _SIXES) & _HIGH_NIBBLES) == _ZEROS)
    v = v - _ZEROS
    v = v * _U(10) + (v >> _U(8))
    v = (((v & _PAIR) * _MUL1) + (((v >> _U(16)) & _PAIR) * _MUL2)) >> _U(32)
    return (v & _U(0xFFFFFFFF)).astype(np.int64), ok


_CHUNK = 1 << 16  # tokens per pass: keeps the working arrays in cache


def read_numbers(
    raw: np.ndarray, starts: np.ndarray, int_ends: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """Values of the numbers raw[starts[k]:ends[k]] (``-12.5``, ``.5``, ``+3``, ``7.``).

    ``int_ends[k]`` is where the integer part stops: the decimal point, or ``ends[k]``
    when there is none.  Eight digits at a time in uint64 arithmetic (SWAR), in
    cache-sized chunks; integer and fraction parts are exact integers, so the
    result is the correctly rounded double, as float() gives.  Numbers with more
    than eight digits on a side go through float(); a malformed number (``--1``,
    ``-``, ``1-2``) comes back as +inf.
    """
    padded = np.full(len(raw) + 2 * _PAD, 32, np.uint8)
    padded[_PAD : _PAD + len(raw)] = raw
    words = np.ndarray((len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
    out = np.empty(len(starts))
    for lo in range(0, len(starts), _CHUNK):
        part = slice(lo, lo + _CHUNK)
        out[part] = _read_chunk(raw, words, starts[part], int_ends[part], ends[part])
    return out


def _read_chunk(
    raw: np.ndarray, words: np.ndarray, starts: np.ndarray, int_ends: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    first = raw[starts]
    int_width = int_ends - starts - ((first == 45) | (first == 43))
    frac = np.where(ends > int_ends, ends - int_ends - 1, 0)
    ok = (int_width <= 8) & (frac <= 8) & (int_width + frac > 0)
    frac = np.minimum(frac, 8)  # longer ones are redone below
    int_value, int_ok = _eight_digits(
        words[int_ends + (_PAD - 8)], np.maximum(np.minimum(int_width, 8), 0)
    )
    frac_value, frac_ok = _eight_digits(words[ends + (_PAD - 8)], frac)
    ok &= int_ok & frac_ok
    value = (int_value * _POW10[frac] + frac_value) / _POW10_FLOAT[frac]
    value = np.where(first == 45, -value, value)
    for k in np.flatnonzero(~ok).tolist():
        token = raw[starts[k] : ends[k]].tobytes().decode("ascii", "replace")
        value[k] = float(token) if _NUMBER_RE.fullmatch(token) else np.inf
    return value
