"""A trainee's instruction sheet: the lab's instructions with their own parameters, printable.

Every trainee of a class has their own parameters (addresses, names, passwords...), so each gets
their own sheet. French by default, English with ``--lang en``. Everything is escaped.
"""

from __future__ import annotations

import time
from html import escape
from typing import Any

from .classes import Trainee
from .classreport import STYLE
from .i18n import pick, t
from .labfile import Lab

SHEET_STYLE = STYLE + """
.instructions{white-space:pre-wrap;font-size:1.05em;line-height:1.5;border:1px solid #ccc;padding:1em}
header{display:flex;justify-content:space-between;border-bottom:2px solid #333;margin-bottom:1em}
@page{margin:1.5cm}
"""


def render_instructions(lab: Lab, params: dict[str, Any], lang: str) -> str:
    text = pick(lab.instructions, lang).strip()
    if not text:
        return "\n".join(f"{key}: {value}" for key, value in params.items())
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError) as exc:
        from .errors import UserError

        raise UserError(f"{lab.path / 'lab.toml'}: instructions use an unknown parameter ({exc})") from None


def access_csv(trainees, codes: dict[str, str]) -> str:
    """The instructor's list of access codes (``id,name,code``), CSV-quoted."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "name", "code"])
    for trainee in trainees:
        writer.writerow([trainee.id, trainee.name, codes[trainee.id]])
    return buffer.getvalue()


def sheet_html(lab: Lab, trainee: Trainee, params: dict[str, Any], lang: str, *, class_name: str = "",
               access: str = "") -> str:
    hosts = ", ".join(f"{h.name} ({h.role})" for h in lab.hosts.values())
    body = (
        f'<header><div><strong>{escape(t("trainee", lang))}</strong> : {escape(trainee.name)} '
        f'<span class="small">({escape(trainee.id)}'
        + (f", {escape(trainee.station)}" if trainee.station else "")
        + f')</span></div><div class="small">{escape(class_name)} · {escape(time.strftime("%Y-%m-%d"))}</div></header>'
        f'<h1>{escape(lab.title_in(lang))}</h1>'
        f'<p>{escape(pick(lab.summary, lang))}</p>'
        f'<p class="small">{escape(t("competency", lang))} : {escape(", ".join(lab.competencies))} · '
        f'{escape(t("hosts", lang))} : {escape(hosts)}</p>'
        f'<div class="instructions">{escape(render_instructions(lab, params, lang))}</div>'
    )
    if access:
        body += (f'<p class="access">{escape(t("access_code", lang))} : <strong>{escape(trainee.id)}</strong> / '
                 f'<code>{escape(access)}</code></p>')
    if lab.rubric:
        items = "".join(f"<li>{escape(item.title_in(lang))} ({escape(item.competency)})</li>" for item in lab.rubric)
        body += f'<h2>{escape(t("manual_items", lang))}</h2><ul>{items}</ul>'
    return (f'<!DOCTYPE html>\n<html lang="{escape(lang)}"><head><meta charset="utf-8">'
            f'<title>{escape(lab.title_in(lang))} — {escape(trainee.name)}</title>'
            f'<style>{SHEET_STYLE}</style></head><body>{body}</body></html>\n')
