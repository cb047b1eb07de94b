"""QR symbols for ticket codes: error correction M, version 7 at most, as PNG, SVG or a module matrix.

Codes are upper-case base32, which QR encodes in alphanumeric mode: 125 characters fit version 6-M
(41×41 modules), small enough for a cheap phone camera at arm's length.
"""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
from PIL import Image

from server.tickets.codes import CODE_LENGTH

MAX_VERSION = 7
QUIET = 4  # modules of white border the standard asks for
MASK = 2
TICKET_VERSION = 6  # 125 alphanumeric characters at level M


@lru_cache(maxsize=512)
def matrix(code: str) -> tuple[tuple[bool, ...], ...]:
    """Dark/light modules, quiet zone included."""
    # A fixed mask skips the library's pure-Python scoring of all eight masks (~15 ms per symbol);
    # every reader decodes any mask, and the tests decode our symbols with jsQR.
    # Ticket codes always have the same length, so their version is known: skip the fitting pass.
    known = TICKET_VERSION if len(code) == CODE_LENGTH else None
    qr = qrcode.QRCode(
        version=known, error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET, mask_pattern=MASK
    )
    qr.add_data(code.upper(), optimize=0)
    qr.make(fit=known is None)
    if qr.version > MAX_VERSION:
        raise ValueError(f"QR version {qr.version} > {MAX_VERSION}: code too long")
    return tuple(tuple(row) for row in qr.get_matrix())


def version(code: str) -> int:
    return (len(matrix(code)) - 2 * QUIET - 17) // 4


def png(code: str, box: int = 8) -> bytes:
    """A 1-bit PNG, `box` pixels per module."""
    modules = matrix(code)
    size = len(modules)
    image = Image.new("1", (size, size))
    image.putdata([0 if dark else 1 for row in modules for dark in row])
    image = image.resize((size * box, size * box), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=1)
    return out.getvalue()


def runs(code: str) -> list[tuple[int, int, int]]:
    """Horizontal runs of dark modules as (row, first column, length): few shapes for SVG and PDF."""
    found = []
    for y, row in enumerate(matrix(code)):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                found.append((y, start, x - start))
            else:
                x += 1
    return found


def svg(code: str) -> str:
    """A scalable SVG: one path, crisp at any size and on any printer."""
    size = len(matrix(code))
    path = "".join(f"M{x} {y}h{n}v1h-{n}z" for y, x, n in runs(code))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges" role="img" aria-label="QR-код билета">'
        f'<rect width="{size}" height="{size}" fill="#fff"/><path d="{path}" fill="#000"/></svg>'
    )
