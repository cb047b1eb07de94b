"""A question before anything that cannot be undone: a real page, so it works without JavaScript.

The list's button is a link to the question (GET, changes nothing); the question's form posts
`confirmed=1`; a POST without it (an old form, a stray click) is sent to the question instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import redirect, render_template, request


def confirmed() -> bool:
    return request.form.get("confirmed") == "1"


def ask(
    *,
    title: str,
    question: str,
    button: str,
    back: str,
    facts: Sequence[tuple[str, str]] = (),
    warning: str | None = None,
    danger: bool = True,
):
    """The question page; its form posts back to the URL it was opened at."""
    if request.method == "POST":
        return redirect(request.path)
    return render_template(
        "confirm.html",
        title=title,
        question=question,
        button=button,
        back=back,
        facts=facts,
        warning=warning,
        danger=danger,
        action=request.path,
    )
