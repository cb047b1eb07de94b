"""Small helpers the benchmarks share."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A free loopback port for a server the benchmark starts and stops itself."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def letters(n: int) -> str:
    """A distinct Cyrillic word for every n: believable, unique student names."""
    alphabet = "абвгдежзиклмнопрстуфхцчшэюя"
    out = ""
    while True:
        n, digit = divmod(n, len(alphabet))
        out = alphabet[digit] + out
        if n == 0:
            return out
