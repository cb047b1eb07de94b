"""Russian text normalisation used for search and for recognising the same student twice."""

import re

_SPACES = re.compile(r"\s+")


def normalise_name(text: str) -> str:
    """Case-folded, `ё`→`е`, spaces collapsed: «Алёна  Петрова» and «алена петрова» are one name."""
    return _SPACES.sub(" ", text.casefold().replace("ё", "е")).strip()
