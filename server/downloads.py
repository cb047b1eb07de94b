"""Files we hand out under their real, Russian names.

HTTP headers are Latin-1: gunicorn refuses a response whose `Content-Disposition` holds «8А» (a 500 for
every real class name), where Flask's test client let it through. RFC 6266/5987: an ASCII `filename=`
for old clients (transliterated, so «Класс 8А» is still `Klass 8A`) and the real name in
`filename*=UTF-8''…`, which every current browser prefers.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Response

_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
    "ь": "", "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip
_UNSAFE = re.compile(r'[\x00-\x1f"\\/:*?<>|]+')  # not in a file name on any system, nor in the quotes
_SPACES = re.compile(r"\s+")


def transliterate(text: str) -> str:
    """Russian letters in Latin ones, case kept; other non-ASCII characters dropped."""
    out = []
    for char in text:
        latin = _LATIN.get(char.lower())
        if latin is None:
            out.append(char if char.isascii() else "")
        else:
            out.append(latin.capitalize() if char.isupper() else latin)
    return "".join(out)


def clean_filename(name: str, limit: int = 120) -> str:
    """A name any file system accepts: no path separators or control characters, not too long."""
    stem, dot, extension = name.rpartition(".")
    stem = _SPACES.sub(" ", _UNSAFE.sub(" ", stem if dot else name)).strip(" .") or "file"
    return f"{stem[:limit].rstrip(' .')}.{extension}" if dot else stem[:limit]


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """The header value for a download named `filename`, safe for every HTTP server and browser."""
    name = clean_filename(filename)
    fallback = _SPACES.sub(" ", transliterate(name)).strip() or "file"
    value = f'{"inline" if inline else "attachment"}; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def download(body: bytes | str, mimetype: str, filename: str, *, inline: bool = False) -> Response:
    """A response carrying a file under its real name (`inline`: opened in the browser's viewer)."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename, inline=inline)
    return response
