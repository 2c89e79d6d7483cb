"""The portal's pages, in French (default) and English. Every string that comes from outside the
code (trainee names and ids, instructions, host names, messages) is escaped here; what the
scripts add later is set with ``textContent``, never as HTML. No inline script: a page hands its
data to its script through ``data-`` attributes and a JSON block that is not executed."""

from __future__ import annotations

import json
from html import escape
from typing import Any

STRINGS: dict[str, dict[str, str]] = {
    "title": {"fr": "Laboratoire TSPCR", "en": "TSPCR lab"},
    "trainee_id": {"fr": "Identifiant", "en": "Trainee id"},
    "code": {"fr": "Code d'accès", "en": "Access code"},
    "login": {"fr": "Se connecter", "en": "Log in"},
    "logout": {"fr": "Se déconnecter", "en": "Log out"},
    "login_help": {"fr": "Votre identifiant et votre code d'accès sont sur votre fiche.",
                   "en": "Your trainee id and access code are on your sheet."},
    "refused": {"fr": "Identifiant ou code incorrect.", "en": "Wrong trainee id or code."},
    "limited": {"fr": "Trop d'essais : réessayez dans {s} s.", "en": "Too many attempts: try again in {s} s."},
    "over": {"fr": "Le temps de l'épreuve est écoulé : l'accès est fermé.",
             "en": "The exam's time is up: access is closed."},
    "instructions": {"fr": "Consignes", "en": "Instructions"},
    "hosts": {"fr": "Machines", "en": "Hosts"},
    "running": {"fr": "en marche", "en": "running"},
    "stopped": {"fr": "arrêtée", "en": "stopped"},
    "rebooting": {"fr": "redémarrage…", "en": "rebooting…"},
    "reboot": {"fr": "Redémarrer", "en": "Reboot"},
    "reboot_confirm": {"fr": "Redémarrer {host} ? Les réglages non enregistrés seront perdus.",
                       "en": "Reboot {host}? Settings not saved will be lost."},
    "check": {"fr": "Vérifier mon travail", "en": "Check my work"},
    "checking": {"fr": "Vérification en cours…", "en": "Checking…"},
    "check_busy": {"fr": "Une vérification est déjà en cours.", "en": "A check is already running."},
    "check_wait": {"fr": "Attendez {s} s avant la prochaine vérification.", "en": "Wait {s} s before the next check."},
    "check_error": {"fr": "La vérification n'a pas pu être faite : réessayez plus tard.",
                    "en": "The check could not run: try again later."},
    "result": {"fr": "Résultat", "en": "Result"},
    "item": {"fr": "Vérification", "en": "Check"},
    "competency": {"fr": "Compétence", "en": "Competency"},
    "points": {"fr": "Points", "en": "Points"},
    "message": {"fr": "Message", "en": "Message"},
    "hint": {"fr": "Indice", "en": "Hint"},
    "score": {"fr": "Score", "en": "Score"},
    "remaining": {"fr": "Temps restant", "en": "Time left"},
    "exam": {"fr": "Épreuve", "en": "Exam"},
    "practice": {"fr": "Entraînement", "en": "Practice"},
    "term_ended": {"fr": "[session terminée : appuyez sur Entrée pour en ouvrir une autre]",
                   "en": "[session ended: press Enter to open another]"},
    "term_lost": {"fr": "[connexion perdue : reconnexion…]", "en": "[connection lost: reconnecting…]"},
    "term_over": {"fr": "[temps écoulé : terminal fermé]", "en": "[time is up: terminal closed]"},
    "host_down": {"fr": "[{host} ne fonctionne pas : redémarrez-la]", "en": "[{host} is not running: reboot it]"},
    "copy_help": {"fr": "Copier : Ctrl+Maj+C · Coller : Ctrl+Maj+V", "en": "Copy: Ctrl+Shift+C · Paste: Ctrl+Shift+V"},
    "instructor": {"fr": "Formateur", "en": "Instructor"},
    "instructor_code": {"fr": "Code formateur", "en": "Instructor code"},
    "connected": {"fr": "Connecté", "en": "Connected"},
    "last_activity": {"fr": "Dernière activité", "en": "Last activity"},
    "hosts_up": {"fr": "Machines en marche", "en": "Hosts up"},
    "last_check": {"fr": "Dernière vérification", "en": "Last self-check"},
    "actions": {"fr": "Actions", "en": "Actions"},
    "extend": {"fr": "Prolonger", "en": "Extend"},
    "extend_all": {"fr": "Prolonger pour tous", "en": "Extend for everyone"},
    "minutes": {"fr": "minutes", "en": "minutes"},
    "grade_now": {"fr": "Noter maintenant", "en": "Grade now"},
    "grading": {"fr": "Notation", "en": "Grading"},
    "report": {"fr": "Rapport", "en": "Report"},
    "class_report": {"fr": "Rapport de la classe", "en": "Class report"},
    "yes": {"fr": "oui", "en": "yes"},
    "no": {"fr": "non", "en": "no"},
    "ended": {"fr": "terminé", "en": "ended"},
    "forbidden": {"fr": "Accès refusé.", "en": "Access denied."},
    "not_found": {"fr": "Page introuvable.", "en": "Page not found."},
    "other_lang": {"fr": "English", "en": "Français"},
}


def s(key: str, lang: str, **values: Any) -> str:
    text = STRINGS[key].get(lang) or STRINGS[key]["fr"]
    return text.format(**values) if values else text


def _json_block(element_id: str, data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{escape(element_id)}">{text}</script>'


def _page(lang: str, title: str, body: str, *, scripts: tuple[str, ...] = (), styles: tuple[str, ...] = (),
          body_data: dict[str, str] | None = None) -> str:
    attrs = "".join(f' data-{escape(k)}="{escape(str(v))}"' for k, v in (body_data or {}).items())
    links = "".join(f'<link rel="stylesheet" href="{escape(href)}">' for href in ("/static/portal.css", *styles))
    tags = "".join(f'<script src="{escape(src)}" defer></script>' for src in scripts)
    return (f'<!DOCTYPE html>\n<html lang="{escape(lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{escape(title)}</title>{links}{tags}</head><body{attrs}>{body}</body></html>\n')


def _lang_switch(lang: str, path: str) -> str:
    other = "en" if lang == "fr" else "fr"
    return f'<a class="lang" href="{escape(path)}?lang={other}" hreflang="{other}">{escape(s("other_lang", lang))}</a>'


def login_page(lang: str, lab_title: str, *, error: str = "", trainee: str = "", instructor: bool = False,
               action: str = "/login") -> str:
    fields = ""
    if not instructor:
        fields += (f'<label>{escape(s("trainee_id", lang))}<input name="trainee" autocomplete="username" required '
                   f'autofocus value="{escape(trainee)}" maxlength="32"></label>')
    label = s("instructor_code" if instructor else "code", lang)
    fields += (f'<label>{escape(label)}<input name="code" type="password" autocomplete="current-password" '
               f'required maxlength="64"{"" if not instructor else " autofocus"}></label>')
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    help_ = "" if instructor else f'<p class="small">{escape(s("login_help", lang))}</p>'
    heading = s("instructor", lang) if instructor else s("title", lang)
    body = (f'<main class="login"><header class="bar"><h1>{escape(heading)}</h1>{_lang_switch(lang, action)}</header>'
            f'<p>{escape(lab_title)}</p>{message}'
            f'<form method="post" action="{escape(action)}?lang={escape(lang)}">{fields}'
            f'<input type="hidden" name="lang" value="{escape(lang)}">'
            f'<button type="submit">{escape(s("login", lang))}</button></form>{help_}</main>')
    return _page(lang, f"{heading} — {lab_title}", body)


def message_page(lang: str, title: str, text: str) -> str:
    return _page(lang, title, f'<main class="login"><h1>{escape(title)}</h1><p>{escape(text)}</p>'
                              f'<p><a href="/?lang={escape(lang)}">{escape(s("login", lang))}</a></p></main>')


def trainee_page(lang: str, *, lab_title: str, trainee_id: str, trainee_name: str, instructions: str,
                 hosts: list[dict[str, Any]], exam: bool, csrf: str, remaining: float | None) -> str:
    tabs, panes = [], []
    for i, host in enumerate(hosts):
        name = escape(host["name"])
        state = "running" if host["running"] else "stopped"
        tabs.append(f'<button type="button" class="tab{" active" if i == 0 else ""}" data-tab="{name}">'
                    f'{name} <span class="state" data-state="{state}">{escape(s(state, lang))}</span></button>')
        panes.append(
            f'<section class="host{" active" if i == 0 else ""}" data-host="{name}">'
            f'<div class="hostbar"><strong>{name}</strong> <span class="small">{escape(host["role"])}</span> '
            f'<span class="state" data-state="{state}">{escape(s(state, lang))}</span>'
            f'<button type="button" class="reboot" data-host="{name}">{escape(s("reboot", lang))}</button>'
            f'<span class="small help">{escape(s("copy_help", lang))}</span></div>'
            f'<div class="terminal" data-host="{name}"></div></section>')
    check = "" if exam else (
        f'<section class="selfcheck"><button type="button" id="check">{escape(s("check", lang))}</button>'
        f'<div id="check-status" role="status"></div><div id="check-result"></div></section>')
    clock = ""
    if remaining is not None:
        clock = (f'<span class="clock">{escape(s("remaining", lang))} : '
                 f'<strong id="clock" data-remaining="{int(remaining)}">--:--</strong></span>')
    mode = s("exam" if exam else "practice", lang)
    base = f"/trainee/{trainee_id}/"
    body = (
        f'<header class="bar"><div><strong>{escape(lab_title)}</strong> · {escape(mode)} · '
        f'<span id="who">{escape(trainee_name)}</span> <span class="small">({escape(trainee_id)})</span></div>'
        f'<div>{clock} {_lang_switch(lang, base)} '
        f'<form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<button type="submit">{escape(s("logout", lang))}</button></form></div></header>'
        f'<div id="over" class="over" hidden>{escape(s("over", lang))}</div>'
        f'<main class="work"><aside><h2>{escape(s("instructions", lang))}</h2>'
        f'<div class="instructions">{escape(instructions)}</div>{check}</aside>'
        f'<div class="desk"><nav class="tabs">{"".join(tabs)}</nav>{"".join(panes)}</div></main>'
        + _json_block("strings", {k: v.get(lang, v["fr"]) for k, v in STRINGS.items()}))
    return _page(lang, f"{lab_title} — {trainee_name}", body,
                 scripts=("/static/vendor/xterm.js", "/static/vendor/addon-fit.js", "/static/portal.js"),
                 styles=("/static/vendor/xterm.css",),
                 body_data={"trainee": trainee_id, "csrf": csrf, "lang": lang, "exam": "1" if exam else "0"})


def instructor_page(lang: str, *, lab_title: str, csrf: str, exam: bool, competencies: list[str]) -> str:
    heads = ["id", s("trainee_id", lang), s("connected", lang), s("last_activity", lang), s("hosts_up", lang),
             s("remaining", lang), s("last_check", lang), s("report", lang), s("actions", lang)]
    body = (
        f'<header class="bar"><div><strong>{escape(s("instructor", lang))}</strong> · {escape(lab_title)} · '
        f'{escape(s("exam" if exam else "practice", lang))}</div><div>{_lang_switch(lang, "/instructor")} '
        f'<form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<button type="submit">{escape(s("logout", lang))}</button></form></div></header>'
        f'<main class="instructor"><p class="toolbar">'
        f'<label><input id="extend-minutes" type="number" min="1" max="600" value="10"> {escape(s("minutes", lang))}</label> '
        f'<button type="button" id="extend-all">{escape(s("extend_all", lang))}</button> '
        f'<button type="button" id="grade-now">{escape(s("grade_now", lang))}</button> '
        f'<span id="grading" role="status"></span> <a id="class-report" hidden href="/reports/class.html">'
        f'{escape(s("class_report", lang))}</a></p>'
        f'<table id="rows"><thead><tr>{"".join(f"<th>{escape(h)}</th>" for h in heads)}</tr></thead>'
        f'<tbody></tbody></table></main>'
        + _json_block("strings", {k: v.get(lang, v["fr"]) for k, v in STRINGS.items()}))
    return _page(lang, f"{s('instructor', lang)} — {lab_title}", body, scripts=("/static/instructor.js",),
                 body_data={"csrf": csrf, "lang": lang, "competencies": ",".join(competencies)})
