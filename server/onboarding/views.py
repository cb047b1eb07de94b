"""«Загрузить школы из файла»: upload → preview with each row's problems → confirm → summary."""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request

from server.accounts.auth import page_principal, roles_required
from server.accounts.models import Role
from server.downloads import download
from server.errors import DomainError, Invalid
from server.extensions import db
from server.onboarding import services

bp = Blueprint("onboarding", __name__, url_prefix="/<tenant>/onboarding")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.route("/schools", methods=["GET", "POST"])
@roles_required(Role.COORDINATOR)
def upload():
    if request.method == "GET":
        return render_template("onboarding/schools.html", step="upload")
    principal = page_principal()
    try:
        if request.form.get("step") == "confirm":
            raw = json.loads(request.form.get("rows") or "[]")
            if not isinstance(raw, list):
                raise Invalid("Загрузите файл заново.", code="bad_rows")
            rows = [services.SchoolRow.from_dict(r) for r in raw if isinstance(r, dict)]
            summary = services.apply(principal, rows)
            return render_template("onboarding/schools.html", step="done", summary=summary)
        upload_file = request.files.get("file")
        if upload_file is None or not upload_file.filename:
            raise Invalid("Выберите файл со списком школ (CSV или XLSX).", code="no_file")
        rows, notes = services.parse(upload_file.filename, upload_file.read(services.MAX_BYTES + 1))
        rows = services.check(rows)
    except (DomainError, ValueError, TypeError) as error:
        db.session.rollback()
        message = error.message if isinstance(error, DomainError) else "Загрузите файл заново."
        return render_template("onboarding/schools.html", step="upload", error=message), 422
    return render_template(
        "onboarding/schools.html",
        step="preview",
        rows=rows,
        notes=notes,
        valid=sum(r.ok for r in rows),
        rows_json=json.dumps([r.as_dict() for r in rows if r.ok], ensure_ascii=False),
    )


@bp.get("/schools-template.<ext>")
@roles_required(Role.COORDINATOR)
def template(ext: str):
    if ext == "csv":
        body, mimetype = services.template_csv(), "text/csv; charset=utf-8"
    elif ext == "xlsx":
        body, mimetype = services.template_xlsx(), XLSX
    else:
        return Response(status=404)
    return download(body, mimetype, f"Школы — шаблон.{ext}")
