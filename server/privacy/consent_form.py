"""The printable consent form for schools collecting consent on paper: the current text, the region's
operator, and blanks for the guardian, the child, the signature and the date (A4, DejaVu fonts)."""

from __future__ import annotations

from server.tickets.consent import Operator, text_of
from server.tickets.pdf import _document

MARGIN = 18.0
WIDTH = 210.0 - 2 * MARGIN


def consent_form_pdf(version: str, operator: Operator, region: str) -> bytes:
    pdf = _document("Согласие на обработку персональных данных")
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_margins(MARGIN, 15, MARGIN)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(
        WIDTH,
        6.5,
        "Согласие родителя (законного представителя)\nна обработку персональных данных несовершеннолетнего",
        align="C",
    )
    pdf.ln(2)
    pdf.set_font("DejaVu", size=8.5)
    pdf.multi_cell(WIDTH, 4.5, f"Редакция {version} · {region}", align="C")
    pdf.ln(4)
    pdf.set_font("DejaVu", size=10)
    operator_line = operator.name or "региональный оператор профориентационных мероприятий"
    details = "; ".join(part for part in (operator.address, operator.contact) if part)
    pdf.multi_cell(WIDTH, 5, f"Оператор: {operator_line}" + (f" ({details})" if details else ""))
    pdf.ln(3)
    blanks = (
        "Родитель (законный представитель): ______________________________________________",
        "                        (фамилия, имя, отчество родителя / законного представителя)",
        "Телефон _____________________________  e-mail ______________________________________",
        "Ученик(ца): ______________________________________________  класс ______ школа ________",
        "                        (фамилия, имя, отчество ребёнка)",
    )
    for line in blanks:
        pdf.set_font("DejaVu", size=7 if line.startswith(" ") else 10)
        pdf.multi_cell(
            WIDTH,
            5 if not line.startswith(" ") else 3.5,
            line.strip() if line.startswith(" ") else line,
            align="C" if line.startswith(" ") else "L",
        )
        pdf.ln(1.5)
    pdf.ln(2)
    pdf.set_font("DejaVu", size=9.5)
    for paragraph in text_of(version, operator.name, region).split("\n"):
        pdf.multi_cell(WIDTH, 4.8, paragraph, align="J")
        pdf.ln(1.5)
    pdf.ln(8)
    y = pdf.get_y()
    pdf.set_font("DejaVu", size=10)
    for x, width, blank, caption in (
        (MARGIN, 60, "«____» ____________ 20___ г.", "дата"),
        (MARGIN + 70, 35, "______________", "подпись"),
        (MARGIN + 110, 64, "_____________________________", "расшифровка подписи"),
    ):
        pdf.set_xy(x, y)
        pdf.set_font("DejaVu", size=10)
        pdf.cell(width, 5, blank, align="C")
        pdf.set_xy(x, y + 5)
        pdf.set_font("DejaVu", size=7)
        pdf.cell(width, 3.5, f"({caption})", align="C")
    pdf.set_xy(MARGIN, y + 10)
    pdf.ln(6)
    pdf.set_font("DejaVu", size=7.5)
    pdf.multi_cell(
        WIDTH,
        3.8,
        "Подписанное согласие хранится в школе. В списке класса для записи укажите "
        f"ФИО родителя, подписавшего согласие; редакция текста — {version}.",
    )
    return bytes(pdf.output())
