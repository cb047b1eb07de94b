"""A crawler for the production server: every GET route of the URL map and every link a person can
follow, with real ids from the database, checked the way a user would notice a fault.

It is built from `app.url_map`, so a route added later is crawled without anyone writing a test: its
parameters are filled from the table that the path names (`/events/<int:object_id>` → `events`,
`<int:group_id>` → `class_groups`). A parameter the crawler cannot fill fails the crawl by name.
"""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from itertools import product
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from sqlalchemy import Engine, MetaData, select, text
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.routing.converters import AnyConverter, IntegerConverter, PathConverter

# --- pages: visible text and links ----------------------------------------------------------------

# Code samples (<code>, <pre>) are shown as they must be typed, in the language of the machine.
_SKIP_TEXT = {"script", "style", "template", "svg", "noscript", "code", "pre"}
_TEXT_ATTRIBUTES = ("title", "placeholder", "alt", "aria-label")
_LINKS = {"a": "href", "link": "href", "img": "src", "script": "src", "iframe": "src"}


class Page(HTMLParser):
    """What a person reads on a page (text, titles, placeholders, button labels) and where it links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.texts: list[str] = []
        self.links: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.lang = values.get("lang")
        if tag in _LINKS and values.get(_LINKS[tag]):
            self.links.append(values[_LINKS[tag]])
        if tag == "form" and values.get("method", "get").lower() == "get" and values.get("action"):
            self.links.append(values["action"])
        self.texts.extend(values[name] for name in _TEXT_ATTRIBUTES if values.get(name))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.texts.append(values["value"])
        if tag in _SKIP_TEXT:
            self._skipping.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.texts.append(data)


def read_page(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


# Latin words a Russian page may show: names of file formats and of things that have no Russian one.
# "EN" is the language switch.
LATIN_ALLOWED = {"QR", "PDF", "CSV", "XLSX", "XLS", "Excel", "ID", "API", "URL", "E-mail", "e-mail", "EN"}
# links, e-mails, codes and their masks (XXXX-XXXX)
_DATA = re.compile(r"https?://\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\b[\w-]*\d[\w-]*\b|\bX+(?:-X+)+\b")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z-]*[A-Za-z]")


def english_on_page(page: Page, data: Iterable[str] = ()) -> list[str]:
    """Latin words in what a person reads, the demo's own data and the allowed names aside."""
    found = []
    for chunk in page.texts:
        for value in data:
            chunk = chunk.replace(value, " ")
        chunk = _DATA.sub(" ", chunk)
        found += [w for w in _LATIN_WORD.findall(chunk) if w not in LATIN_ALLOWED]
    return found


# --- downloads: each must open ----------------------------------------------------------------------


def parse_ics(body: str) -> list[dict[str, str]]:
    """The VEVENTs of an iCalendar file (RFC 5545: CRLF lines, folded with a leading space); raises
    ValueError on a file a calendar app would refuse."""
    if not body.startswith("BEGIN:VCALENDAR\r\n") or not body.endswith("END:VCALENDAR\r\n"):
        raise ValueError("not a VCALENDAR with CRLF line ends")
    lines: list[str] = []
    for raw in body[:-2].split("\r\n"):
        if raw.startswith((" ", "\t")) and lines:
            lines[-1] += raw[1:]
        elif ":" not in raw:
            raise ValueError(f"line without a name: {raw!r}")
        else:
            lines.append(raw)
    events, current, depth = [], None, []
    for line in lines:
        name, _, value = line.partition(":")
        name = name.split(";")[0].upper()
        if name == "BEGIN":
            depth.append(value)
            if value == "VEVENT":
                current = {}
        elif name == "END":
            if not depth or depth.pop() != value:
                raise ValueError(f"END:{value} without its BEGIN")
            if value == "VEVENT":
                events.append(current)
                current = None
        elif current is not None and depth[-1] == "VEVENT":
            current[name] = value.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";")
    if depth:
        raise ValueError("unclosed " + ", ".join(depth))
    for event in events:
        missing = {"UID", "DTSTART", "SUMMARY"} - event.keys()
        if missing:
            raise ValueError(f"VEVENT without {', '.join(sorted(missing))}")
    if not events:
        raise ValueError("no VEVENT")
    return events


def check_pdf(body: bytes) -> str | None:
    """None when `pdftoppm` renders the first page; else what went wrong."""
    if not body.startswith(b"%PDF-"):
        return "not a PDF"
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "file.pdf"
        source.write_bytes(body)
        run = subprocess.run(
            ["pdftoppm", "-r", "20", "-png", "-f", "1", "-l", "1", str(source), str(Path(folder) / "page")],
            capture_output=True,
            timeout=60,
        )
        if run.returncode != 0 or not list(Path(folder).glob("page*.png")):
            return f"pdftoppm: {run.stderr.decode(errors='replace').strip()}"
    return None


def check_download(response: requests.Response) -> str | None:
    """None when the file opens as its type says; else what a user would meet."""
    kind = response.headers.get("Content-Type", "").split(";")[0].strip()
    body = response.content
    try:
        if kind == "application/pdf":
            return check_pdf(body)
        if kind == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
            from openpyxl import load_workbook

            load_workbook(io.BytesIO(body), read_only=True).close()
        elif kind == "text/csv":
            if not body.startswith(b"\xef\xbb\xbf"):
                return "CSV without the UTF-8 BOM (Excel shows mojibake)"
            if ";" not in body.decode("utf-8-sig").splitlines()[0]:
                return "CSV not separated by ';' (Excel in Russia expects it)"
        elif kind == "text/calendar":
            parse_ics(body.decode())
    except Exception as error:  # noqa: BLE001  (any failure to open is the finding)
        return f"{kind} does not open: {error!r}"
    disposition = response.headers.get("Content-Disposition")
    if disposition is not None:
        return check_disposition(disposition)
    return None


def check_disposition(header: str) -> str | None:
    """A `Content-Disposition` every browser reads: ASCII `filename=`, the real name in `filename*`."""
    if not header.isascii() or 'filename="' not in header:
        return f"Content-Disposition without an ASCII filename: {header!r}"
    star = re.search(r"filename\*=UTF-8''([^;\s]+)", header)
    if "filename*" in header and not star:
        return f"malformed filename*: {header!r}"
    return None


# --- the URL map, filled with real ids --------------------------------------------------------------

_PART = re.compile(r"<(?:[^>:]+:)?([^>]+)>")


def table_for(rule: Rule, argument: str, tables: Iterable[str]) -> str | None:
    """The table an id parameter points into: named by the path segment before it (`events/<id>`) or
    by the parameter (`group_id` → `class_groups`)."""
    tables = list(tables)
    segments = [s for s in rule.rule.split("/") if s]
    names = []
    for before, segment in zip(segments, segments[1:], strict=False):
        if _PART.fullmatch(segment) and _PART.fullmatch(segment).group(1) == argument:
            names.append(before)
    if argument.endswith("_id"):
        stem = argument[:-3]
        names += [stem + "s", stem + "es", stem.replace("y", "ies")]
    for name in names:
        exact = [t for t in tables if t == name]
        suffixed = [t for t in tables if t.endswith("_" + name)]
        if exact or len(suffixed) == 1:
            return (exact or suffixed)[0]
    return None


@dataclass
class Ids:
    """Real values for URL parameters from one region's data; `extra` names parameters by hand."""

    engine: Engine
    tenant_id: int
    tenant_slug: str
    extra: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.metadata = MetaData()
        self.metadata.reflect(self.engine)

    def ids(self, table_name: str) -> list[str]:
        table = self.metadata.tables[table_name]
        query = select(table.c.id).order_by(table.c.id)
        if "tenant_id" in table.c:
            query = query.where(table.c.tenant_id == self.tenant_id)
        with self.engine.connect() as conn:
            ids = [str(i) for i in conn.scalars(query)]
        # the first, the middle and the last: in the demo an open day, a trial and an online trial
        return list(dict.fromkeys(ids[:1] + ids[len(ids) // 2 :][:1] + ids[-1:]))

    def values(self, rule: Rule, argument: str) -> list[str]:
        converter = rule._converters.get(argument)
        if argument in self.extra:
            return self.extra[argument]
        if argument == "tenant":
            return [self.tenant_slug]
        if isinstance(converter, AnyConverter):
            return sorted(converter.items)
        if isinstance(converter, IntegerConverter) or argument.endswith("_id"):
            table = table_for(rule, argument, self.metadata.tables)
            if table is None:
                raise LookupError(f"{rule.rule}: which table has <{argument}>? Name it in Ids.extra")
            found = self.ids(table)
            if not found:
                raise LookupError(f"{rule.rule}: the demo has no rows in {table} for <{argument}>")
            return found
        raise LookupError(f"{rule.rule}: no values for <{argument}>; name them in Ids.extra")


def route_urls(url_map: Map, ids: Ids) -> tuple[list[str], list[str]]:
    """A URL for every combination of real values of every GET route (static files and other paths
    aside: those are crawled through the links that name them); and the routes that could not be filled."""
    urls, unfilled = [], []
    adapter = url_map.bind("localhost")
    for rule in url_map.iter_rules():
        if (rule.methods is not None and "GET" not in rule.methods) or any(
            isinstance(c, PathConverter) for c in rule._converters.values()
        ):
            continue
        try:
            choices = [[(a, v) for v in ids.values(rule, a)] for a in sorted(rule.arguments)]
        except LookupError as error:
            unfilled.append(str(error))
            continue
        for combination in product(*choices):
            urls.append(adapter.build(rule.endpoint, dict(combination), force_external=False))
    return urls, unfilled


def text_of_values(engine: Engine) -> set[str]:
    """Strings of the regions' data: names, titles, addresses (they are data, whatever their script)."""
    values = set()
    with engine.connect() as conn:
        for table, columns in (
            ("venues", "name, address, cluster"),
            ("events", "title, broadcast_url"),
            ("schools", "name"),
            ("municipalities", "name"),
            ("kiosks", "name"),
        ):
            for row in conn.execute(text(f"SELECT {columns} FROM {table}")):
                values.update(v for v in row if v)
    return values


# --- the crawl ----------------------------------------------------------------------------------------


@dataclass
class Finding:
    url: str
    status: int
    problem: str


@dataclass
class Crawl:
    """One person's walk: a requests session, its bearer token for the API, what it saw."""

    base: str
    session: requests.Session
    url_map: Map
    data: set[str]
    api_token: str | None = None
    per_endpoint: int = 4
    findings: list[Finding] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)  # URL → status
    endpoints: dict[str, set[int]] = field(default_factory=dict)  # endpoint → statuses
    opened: dict[str, int] = field(default_factory=dict)  # Content-Type of a download → files opened
    extra_check: Callable[[str, requests.Response], str | None] | None = None

    def _endpoint(self, path: str) -> str | None:
        try:
            endpoint, _ = self.url_map.bind("localhost").match(path, method="GET")
        except HTTPException:
            return None
        return endpoint

    def run(self, start: Iterable[str]) -> Crawl:
        queue = deque(start)
        counted: dict[str, int] = {}
        while queue:
            url = queue.popleft()
            parts = urlsplit(urljoin(self.base + "/", url))
            if parts.netloc != urlsplit(self.base).netloc:
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path in self.seen:
                continue
            endpoint = self._endpoint(parts.path)
            if endpoint is None:
                self.seen[path] = 0
                self.findings.append(Finding(path, 0, "a link to no route"))
                continue
            counted[endpoint] = counted.get(endpoint, 0) + 1
            if counted[endpoint] > self.per_endpoint and endpoint != "static":
                continue
            queue.extend(self._visit(path, endpoint))
        return self

    def _visit(self, path: str, endpoint: str) -> list[str]:
        headers = {}
        if path.startswith("/api/") and self.api_token:
            headers["Authorization"] = f"Bearer {self.api_token}"
        response = self.session.get(self.base + path, headers=headers, allow_redirects=False, timeout=60)
        status = response.status_code
        self.seen[path] = status
        self.endpoints.setdefault(endpoint, set()).add(status)
        if status >= 500:
            self.findings.append(Finding(path, status, "server error"))
            return []
        if 300 <= status < 400:
            return [response.headers.get("Location", "")]
        if status >= 400:
            return []
        problem = None
        kind = response.headers.get("Content-Type", "").split(";")[0].strip()
        links: list[str] = []
        if kind == "text/html":
            page = read_page(response.text)
            links = [urljoin(self.base + path, link) for link in page.links]
            if page.lang == "ru":
                english = english_on_page(page, self.data)
                if english:
                    problem = f"English on a Russian page: {sorted(set(english))[:12]}"
        elif kind not in (
            "application/json",
            "text/css",
            "text/javascript",
            "image/png",
            "image/svg+xml",
            "application/manifest+json",
            "application/javascript",
        ):
            problem = check_download(response)
            self.opened[kind] = self.opened.get(kind, 0) + (problem is None)
        problem = problem or (self.extra_check(path, response) if self.extra_check else None)
        if problem:
            self.findings.append(Finding(path, status, problem))
        # not the language switch: it changes the session's language for every page after it
        return [
            link.split("#")[0]
            for link in links
            if link and not link.startswith(("mailto:", "tel:")) and "lang=" not in link
        ]
