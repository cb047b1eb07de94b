"""Russian text normalisation used for search and for recognising the same student twice."""

import re

_SPACES = re.compile(r"\s+")


def normalise_name(text: str) -> str:
    """Case-folded, `ё`→`е`, spaces collapsed: «Алёна  Петрова» and «алена петрова» are one name."""
    return _SPACES.sub(" ", text.casefold().replace("ё", "е")).strip()


_WORD = re.compile(r"\w+")
# What people call a school, beside its registered name: «СОШ № 33» is «Средняя школа № 33».
_SCHOOL_ALIASES = (
    ({"средняя", "школа"}, ("сш", "сош")),
    ({"средняя", "общеобразовательная", "школа"}, ("сош", "сш")),
    ({"основная", "школа"}, ("оош",)),
    ({"начальная", "школа"}, ("нош",)),
    ({"сош"}, ("средняя", "школа", "сш")),
    ({"сш"}, ("средняя", "школа", "сош")),
    ({"оош"}, ("основная", "школа")),
    ({"центр", "образования"}, ("цо",)),
)
# The legal form, which parents type and names often leave out: «МОУ СОШ № 33».
_LEGAL_FORMS = {
    "моу", "мбоу", "маоу", "мкоу", "гоу", "гбоу", "гаоу", "чоу", "ноу", "оу",
    "муниципальное", "государственное", "бюджетное", "автономное", "казенное",
    "общеобразовательное", "учреждение",
}  # fmt: skip


def search_words(text: str) -> list[str]:
    """Words and numbers, case-folded, ё→е, without punctuation: «№ 33» is «33»."""
    return _WORD.findall(normalise_name(text).replace("_", " "))


def school_search_text(name: str, limit: int = 300) -> str:
    """A school's usual abbreviations and its name's words, each after a space, so that a word typed is
    matched as the start of a word (` 33` matches «№ 33», not «№ 133»). Within `limit` characters
    (the column's): a name that long loses its last words, never an abbreviation."""
    words = search_words(name)
    present, aliases = set(words), []
    for needed, known in _SCHOOL_ALIASES:
        if needed <= present:
            aliases += [alias for alias in known if alias not in present and alias not in aliases]
    text = " " + " ".join(aliases + words) + " "
    return text if len(text) <= limit else text[: text.rindex(" ", 0, limit) + 1]


def school_query_words(query: str) -> list[str]:
    """The words of a typed query that a school's name must all start, in any order."""
    return [word for word in search_words(query) if word not in _LEGAL_FORMS]
