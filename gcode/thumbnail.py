"""Thumbnails embedded in G-code comments, as PrusaSlicer, SuperSlicer and Orca write them.

A block looks like::

    ; thumbnail begin 220x124 5296
    ; iVBORw0KGgoAAAANSUhEUgAAANwAAAB8CAYAAAAW...
    ; thumbnail end

``thumbnail`` may also be ``thumbnail_JPG`` or ``thumbnail_QOI``.  The payload is
base64; LEN is the length of the base64 text.  Every block is returned with its
format; only PNG ones can be shown by the dashboard as they are.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from dataclasses import dataclass

logger = logging.getLogger(__name__)

_BEGIN = re.compile(
    r"; ?thumbnail(?:_(?P<fmt>[A-Za-z]+))? begin "
    r"(?P<w>\d+) ?x ?(?P<h>\d+)(?: (?P<len>\d+))?[^\n]*\n"
)
_END = re.compile(r"^; ?thumbnail(?:_[A-Za-z]+)? end", re.MULTILINE)
_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpg",
    b"qoif": "qoi",
}


@dataclass(frozen=True)
class Thumbnail:
    """One embedded image: pixel size, format ("png", "jpg" or "qoi") and the decoded bytes."""

    width: int
    height: int
    format: str
    data: bytes

    @property
    def is_png(self) -> bool:
        return self.format == "png"


def _sniff(data: bytes, declared: str) -> str:
    for magic, name in _MAGIC.items():
        if data.startswith(magic):
            return name
    return declared


def extract_thumbnails(text: str) -> list[Thumbnail]:
    """All thumbnail blocks of the text, in file order; broken base64 blocks are skipped."""
    out: list[Thumbnail] = []
    if "thumbnail" not in text:
        return out
    for match in _BEGIN.finditer(text):
        end = _END.search(text, match.end())
        if end is None:
            logger.warning("thumbnail %sx%s: no end line, skipped", match["w"], match["h"])
            break
        lines = text[match.end() : end.start()].splitlines()
        body = "".join(line.lstrip(";").strip() for line in lines if line.strip())
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            logger.warning("thumbnail %sx%s: invalid base64, skipped", match["w"], match["h"])
            continue
        declared = (match.group("fmt") or "png").lower().replace("jpeg", "jpg")
        out.append(Thumbnail(int(match["w"]), int(match["h"]), _sniff(data, declared), data))
    return out


def largest_png(thumbnails: list[Thumbnail]) -> Thumbnail | None:
    """The PNG thumbnail with the most pixels, for the dashboard; None if there is none."""
    pngs = [t for t in thumbnails if t.is_png]
    return max(pngs, key=lambda t: t.width * t.height, default=None)
