"""Printable tickets: one ticket, and a class sheet (escort page + 8 tickets per A4 with cut marks).

Fonts: DejaVu Sans, vendored in `static/fonts/` (licence beside it) and embedded as a subset, so
Cyrillic prints the same on any machine. QR codes are drawn as vector rectangles: sharp on any printer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF

from server.formatting import MONTHS, WEEKDAYS
from server.tickets import qr

FONTS = Path(__file__).resolve().parent.parent.parent / "static" / "fonts"
PAGE_W, PAGE_H = 210.0, 297.0
COLS, ROWS = 2, 4
CELL_W, CELL_H = PAGE_W / COLS, PAGE_H / ROWS


@dataclass(frozen=True)
class TicketCard:
    """What a printed ticket shows: no more personal data than the short name and class."""

    code: str
    short_name: str
    grade_label: str
    school: str
    event_title: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    address: str
    online: bool = False
    join_url: str | None = None  # online: the personal link that admits on a button press


JOIN_LABEL = "Подключиться к трансляции"
JOIN_HOW = (
    "Откройте ссылку в начале события и нажмите «Подключиться к трансляции»: так организатор увидит, "
    "что вы участвовали. Не пересылайте ссылку: она личная."
)


@dataclass(frozen=True)
class EscortCard:
    code: str
    school: str
    class_label: str
    escort_name: str
    students: int
    event_title: str
    starts_at: datetime
    ends_at: datetime
    venue: str
    address: str


def when(starts_at: datetime, ends_at: datetime, tz: ZoneInfo) -> str:
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    return f"{start.day} {MONTHS[start.month - 1]} ({WEEKDAYS[start.weekday()]}), {start:%H:%M}–{end:%H:%M}"


def _document(title: str) -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    pdf.set_creator("Пропуск")
    pdf.set_font("DejaVu", size=10)
    return pdf


def _draw_qr(pdf: FPDF, code: str, x: float, y: float, size: float) -> None:
    modules = len(qr.matrix(code))
    unit = size / modules
    pdf.set_fill_color(0, 0, 0)
    for row, col, length in qr.runs(code):
        pdf.rect(x + col * unit, y + row * unit, length * unit + 0.01, unit + 0.01, style="F")


def _text(pdf: FPDF, x: float, y: float, w: float, text: str, size: float, bold: bool = False) -> float:
    """Wrapped text at (x, y); returns the y below it."""
    pdf.set_font("DejaVu", "B" if bold else "", size)
    pdf.set_xy(x, y)
    pdf.multi_cell(w, size * 0.45, text, new_x="LEFT", new_y="NEXT")
    return pdf.get_y()


def _card(pdf: FPDF, card: TicketCard, x: float, y: float, tz: ZoneInfo) -> None:
    """One ticket in a CELL_W × CELL_H cell."""
    pad = 5.0
    qr_size = CELL_H - 2 * pad - 4
    _draw_qr(pdf, card.code, x + pad - 2, y + pad, qr_size)
    tx, tw = x + pad + qr_size, CELL_W - qr_size - 2 * pad + 1
    ty = _text(pdf, tx, y + pad + 1, tw, card.short_name, 11, bold=True)
    ty = _text(pdf, tx, ty + 0.5, tw, f"{card.grade_label} · {card.school}", 7.5)
    ty = _text(pdf, tx, ty + 2, tw, card.event_title, 8.5, bold=True)
    ty = _text(pdf, tx, ty + 0.5, tw, when(card.starts_at, card.ends_at, tz), 8)
    if card.join_url:
        place = f"Онлайн. {JOIN_LABEL}: {card.join_url}"
    else:
        place = "Онлайн — ссылка на странице билета" if card.online else f"{card.venue}, {card.address}"
    _text(pdf, tx, ty + 0.5, tw, place, 7)
    pdf.set_text_color(90, 90, 90)
    hint = "Откройте ссылку, QR на входе не нужен" if card.online else "Покажите QR-код на входе"
    _text(pdf, x + pad - 1, y + CELL_H - pad - 2, CELL_W - 2 * pad, hint, 6.5)
    pdf.set_text_color(0, 0, 0)


def _cut_marks(pdf: FPDF) -> None:
    """Dashed cut lines between the cells, and crop ticks at the page edges."""
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.2)
    with pdf.local_context():
        pdf.set_dash_pattern(dash=2, gap=2)
        for col in range(1, COLS):
            pdf.line(col * CELL_W, 0, col * CELL_W, PAGE_H)
        for row in range(1, ROWS):
            pdf.line(0, row * CELL_H, PAGE_W, row * CELL_H)
    pdf.set_dash_pattern()
    for col in range(1, COLS):
        pdf.line(col * CELL_W, 0, col * CELL_W, 6)
        pdf.line(col * CELL_W, PAGE_H - 6, col * CELL_W, PAGE_H)
    for row in range(1, ROWS):
        pdf.line(0, row * CELL_H, 6, row * CELL_H)
        pdf.line(PAGE_W - 6, row * CELL_H, PAGE_W, row * CELL_H)


def ticket_pdf(card: TicketCard, tz: ZoneInfo) -> bytes:
    """A single ticket, large, at the top of an A4 sheet."""
    pdf = _document(f"Билет: {card.event_title}")
    pdf.add_page()
    margin = 20.0
    _text(pdf, margin, 16, PAGE_W - 2 * margin, "Билет участника", 11)
    _text(pdf, margin, 23, PAGE_W - 2 * margin, card.event_title, 16, bold=True)
    width = PAGE_W - 2 * margin
    if card.online:  # no door: the personal link instead of a code to show
        y = _text(pdf, margin, 40, width, card.short_name, 18, bold=True)
        y = _text(pdf, margin, y + 1, width, f"{card.grade_label} · {card.school}", 11)
        y = _text(pdf, margin, y + 5, width, when(card.starts_at, card.ends_at, tz), 13, bold=True)
        y = _text(pdf, margin, y + 2, width, f"Онлайн · {card.venue}", 12)
        if card.join_url:
            y = _text(pdf, margin, y + 8, width, f"{JOIN_LABEL}:", 13, bold=True)
            pdf.set_text_color(0, 60, 160)
            y = _text(pdf, margin, y + 1, width, card.join_url, 11)
            pdf.link(margin, y - 6, width, 6, card.join_url)
            pdf.set_text_color(0, 0, 0)
        _text(pdf, margin, y + 8, width, JOIN_HOW, 9)
        return bytes(pdf.output())
    size = 90.0
    _draw_qr(pdf, card.code, (PAGE_W - size) / 2, 42, size)
    y = _text(pdf, margin, 138, width, card.short_name, 18, bold=True)
    y = _text(pdf, margin, y + 1, width, f"{card.grade_label} · {card.school}", 11)
    y = _text(pdf, margin, y + 5, width, when(card.starts_at, card.ends_at, tz), 13, bold=True)
    y = _text(pdf, margin, y + 2, width, card.venue, 12)
    y = _text(pdf, margin, y + 1, width, card.address, 11)
    _text(
        pdf,
        margin,
        y + 8,
        width,
        "Покажите QR-код на входе — с телефона или на этом листе. Не показывайте его посторонним: "
        "по нему проходят один раз.",
        9,
    )
    return bytes(pdf.output())


def class_sheet_pdf(escort: EscortCard, cards: list[TicketCard], tz: ZoneInfo) -> bytes:
    """Page 1: the teacher's escort QR (no child named); then the tickets, 8 per page, with cut marks."""
    pdf = _document(f"Класс {escort.class_label}: {escort.event_title}")
    pdf.add_page()
    margin = 20.0
    width = PAGE_W - 2 * margin
    _text(pdf, margin, 16, width, "Код сопровождающего — проход группы", 11)
    _text(pdf, margin, 23, width, f"{escort.school}, {escort.class_label} класс", 18, bold=True)
    size = 100.0
    _draw_qr(pdf, escort.code, (PAGE_W - size) / 2, 45, size)
    y = _text(pdf, margin, 152, width, escort.event_title, 14, bold=True)
    y = _text(pdf, margin, y + 2, width, when(escort.starts_at, escort.ends_at, tz), 12)
    y = _text(pdf, margin, y + 1, width, f"{escort.venue}, {escort.address}", 11)
    if escort.escort_name:
        y = _text(pdf, margin, y + 4, width, f"Сопровождающий: {escort.escort_name}", 11)
    y = _text(pdf, margin, y + 2, width, f"Учеников в группе: {escort.students}", 11, bold=True)
    _text(
        pdf,
        margin,
        y + 8,
        width,
        "Покажите этот код на входе, чтобы отметить весь класс сразу. В коде нет имён детей. Ученикам "
        "без телефонов раздайте их билеты со следующих страниц (разрежьте по пунктиру).",
        9.5,
    )
    for start in range(0, len(cards), COLS * ROWS):
        pdf.add_page()
        _cut_marks(pdf)
        for index, card in enumerate(cards[start : start + COLS * ROWS]):
            row, col = divmod(index, COLS)
            _card(pdf, card, col * CELL_W, row * CELL_H, tz)
    return bytes(pdf.output())
