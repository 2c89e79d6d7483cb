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
    "recordings": {"fr": "Enregistrements", "en": "Recordings"},
    "back": {"fr": "Retour", "en": "Back"},
    "recordings_of": {"fr": "Sessions de terminal enregistrées", "en": "Recorded terminal sessions"},
    "no_recordings": {"fr": "Aucune session enregistrée.", "en": "No session recorded."},
    "host": {"fr": "Machine", "en": "Host"},
    "channel": {"fr": "Accès", "en": "Access"},
    "channel_web": {"fr": "navigateur", "en": "browser"},
    "channel_ssh": {"fr": "SSH", "en": "SSH"},
    "started": {"fr": "Début", "en": "Started"},
    "duration": {"fr": "Durée", "en": "Length"},
    "size": {"fr": "Taille", "en": "Size"},
    "state": {"fr": "État", "en": "State"},
    "recording_live": {"fr": "en cours", "en": "live"},
    "recording_done": {"fr": "terminée", "en": "ended"},
    "recording_cut": {"fr": "coupée (taille maximale)", "en": "cut (size limit)"},
    "recording_cut_notice": {"fr": "La suite de cette session n'a pas été enregistrée (taille maximale atteinte).",
                             "en": "The rest of this session was not recorded (size limit reached)."},
    "replay": {"fr": "Rejouer", "en": "Replay"},
    "cast_file": {"fr": "fichier .cast", "en": ".cast file"},
    "play": {"fr": "Lecture", "en": "Play"},
    "pause": {"fr": "Pause", "en": "Pause"},
    "speed": {"fr": "Vitesse", "en": "Speed"},
    "position": {"fr": "Position", "en": "Position"},
    "prev_gap": {"fr": "Activité précédente (pause de plus de 2 s avant)", "en": "Previous activity (after a pause over 2 s)"},
    "next_gap": {"fr": "Activité suivante (après une pause de plus de 2 s)", "en": "Next activity (after a pause over 2 s)"},
    "prev_short": {"fr": "Précédente", "en": "Previous"},
    "next_short": {"fr": "Suivante", "en": "Next"},
    "skip_idle": {"fr": "Pauses réduites à 2 s", "en": "Pauses cut to 2 s"},
    "goto": {"fr": "Aller à", "en": "Go to"},
    "no_player": {"fr": "Lecteur absent (xterm.js non installé) : ouvrez les fichiers .cast avec asciinema play.",
                  "en": "No player (xterm.js not installed): open the .cast files with asciinema play."},
    "input_not_recorded": {"fr": "Seul ce que le terminal a affiché est enregistré, jamais ce qui a été tapé "
                                 "(un mot de passe tapé à une invite n'y est pas).",
                           "en": "Only what the terminal showed is recorded, never what was typed "
                                 "(a password typed at a prompt is not in it)."},
}


def s(key: str, lang: str, **values: Any) -> str:
    text = STRINGS[key].get(lang) or STRINGS[key]["fr"]
    return text.format(**values) if values else text


def json_for_script(data: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``</script``, no ``<!--``, and no
    U+2028/U+2029 (line terminators to older JavaScript), whatever the strings hold."""
    text = json.dumps(data, ensure_ascii=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                       ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    return text


def _json_block(element_id: str, data: Any) -> str:
    return f'<script type="application/json" id="{escape(element_id)}">{json_for_script(data)}</script>'


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
        f'<p><a id="my-recordings" href="/trainee/{escape(trainee_id)}/recordings?lang={escape(lang)}" '
        f'target="_blank" rel="noopener">{escape(s("recordings", lang))}</a></p>'
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
             s("remaining", lang), s("last_check", lang), s("report", lang), s("recordings", lang), s("actions", lang)]
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


# -- terminal recordings ---------------------------------------------------------------------------
SPEEDS = ("0.5", "1", "2", "4", "8", "16")


def _strings(lang: str) -> dict[str, str]:
    return {k: v.get(lang, v["fr"]) for k, v in STRINGS.items()}


def human_size(n: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def human_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, m, s_ = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{h}:{m:02d}:{s_:02d}" if h else f"{m:02d}:{s_:02d}"


def channel_label(channel: str, lang: str) -> str:
    return s("channel_web" if channel == "web" else "channel_ssh", lang)


def recording_state(info: Any, lang: str) -> str:
    return s("recording_live" if getattr(info, "live", False) else "recording_cut" if info.cut else "recording_done", lang)


def recordings_table(lang: str, rows: list[dict[str, str]]) -> str:
    """``rows``: per recording its ``host``, ``channel``, ``started``, ``duration``, ``size``,
    ``state`` (text) and the links ``replay`` and ``cast`` (URLs, relative or absolute)."""
    if not rows:
        return f'<p class="small">{escape(s("no_recordings", lang))}</p>'
    heads = (s("host", lang), s("channel", lang), s("started", lang), s("duration", lang), s("size", lang),
             s("state", lang), "")
    body = "".join(
        f'<tr data-recording="{escape(row["name"])}"><td>{escape(row["host"])}</td><td>{escape(row["channel"])}</td>'
        f'<td>{escape(row["started"])}</td><td>{escape(row["duration"])}</td><td>{escape(row["size"])}</td>'
        f'<td>{escape(row["state"])}</td><td><a class="replay" href="{escape(row["replay"])}">{escape(s("replay", lang))}</a>'
        f' · <a class="cast" href="{escape(row["cast"])}" download>{escape(s("cast_file", lang))}</a></td></tr>'
        for row in rows)
    return (f'<table class="recordings"><thead><tr>{"".join(f"<th>{escape(h)}</th>" for h in heads)}</tr></thead>'
            f'<tbody>{body}</tbody></table>')


def player(lang: str) -> str:
    """The player's controls and screen; replay.js brings them to life (labels set here, escaped)."""
    speeds = "".join(f'<option value="{v}"{" selected" if v == "1" else ""}>×{v}</option>' for v in SPEEDS)
    return (
        f'<section id="player" class="player" data-state="paused" data-position="0">'
        f'<h2 id="replay-title"></h2>'
        f'<div class="controls">'
        f'<button type="button" id="play">{escape(s("play", lang))}</button> '
        f'<button type="button" id="prev-gap" title="{escape(s("prev_gap", lang))}" '
        f'aria-label="{escape(s("prev_gap", lang))}">« {escape(s("prev_short", lang))}</button> '
        f'<button type="button" id="next-gap" title="{escape(s("next_gap", lang))}" '
        f'aria-label="{escape(s("next_gap", lang))}">{escape(s("next_short", lang))} »</button> '
        f'<input type="range" id="seek" min="0" max="0" step="0.01" value="0" aria-label="{escape(s("position", lang))}"> '
        f'<span id="time" class="time">00:00 / 00:00</span> '
        f'<label>{escape(s("speed", lang))} <select id="speed">{speeds}</select></label> '
        f'<label><input type="checkbox" id="skip-idle" checked> {escape(s("skip_idle", lang))}</label> '
        f'<label>{escape(s("goto", lang))} <input id="goto" size="7" placeholder="mm:ss" inputmode="numeric"></label>'
        f'</div><div id="screen" class="screen"></div><p id="notice" class="notice" role="status"></p>'
        f'<p class="small">{escape(s("input_not_recorded", lang))}</p></section>')


def _cast_data(lang: str, recordings: list[dict[str, Any]], idle: float) -> str:
    return _json_block("casts", {"strings": _strings(lang), "idle": idle, "recordings": recordings})


def recordings_page(lang: str, *, lab_title: str, trainee_id: str, trainee_name: str, rows: list[dict[str, str]],
                    back: str, path: str) -> str:
    """The portal's list of a trainee's recordings (the instructor's; the trainee's own in practice)."""
    body = (
        f'<header class="bar"><div><strong>{escape(s("recordings", lang))}</strong> · {escape(lab_title)} · '
        f'<span id="who">{escape(trainee_name)}</span> <span class="small">({escape(trainee_id)})</span></div>'
        f'<div>{_lang_switch(lang, path)} <a href="{escape(back)}?lang={escape(lang)}">{escape(s("back", lang))}</a>'
        f'</div></header><main class="recordings"><h1>{escape(s("recordings_of", lang))}</h1>'
        f'{recordings_table(lang, rows)}<p class="small">{escape(s("input_not_recorded", lang))}</p></main>')
    return _page(lang, f"{s('recordings', lang)} — {trainee_name}", body, styles=("/static/replay.css",))


def replay_page(lang: str, *, lab_title: str, trainee_id: str, trainee_name: str, recording: dict[str, Any],
                back: str, cast: str, path: str, idle: float) -> str:
    """The portal's replay of one recording (its events embedded, played by /static/replay.js)."""
    body = (
        f'<header class="bar"><div><strong>{escape(s("replay", lang))}</strong> · {escape(lab_title)} · '
        f'<span id="who">{escape(trainee_name)}</span> <span class="small">({escape(trainee_id)})</span></div>'
        f'<div>{_lang_switch(lang, path)} <a href="{escape(cast)}" download>{escape(s("cast_file", lang))}</a> · '
        f'<a href="{escape(back)}?lang={escape(lang)}">{escape(s("back", lang))}</a></div></header>'
        f'<main class="replay">{player(lang)}</main>' + _cast_data(lang, [recording], idle))
    return _page(lang, f"{s('replay', lang)} — {trainee_name}", body,
                 scripts=("/static/vendor/xterm.js", "/static/replay.js"),
                 styles=("/static/vendor/xterm.css", "/static/replay.css"), body_data={"lang": lang})


def replay_file(lang: str, *, title: str, recordings: list[dict[str, Any]], player_present: bool = True,
                idle: float = 2.0) -> str:
    """``recordings/replay.html`` of a results folder: every recording of the trainee embedded,
    the player's files beside it (relative links: it plays from the file system, offline, and
    from the portal's /reports/ under its CSP). ``#NAME`` in the address picks a recording."""
    rows = [{"name": r["name"], "host": r["host"], "channel": channel_label(r["channel"], lang),
             "started": r["started"], "duration": human_duration(r["duration"]), "size": human_size(r["bytes"]),
             "state": s("recording_cut" if r["cut"] else "recording_done", lang),
             "replay": f"#{r['name']}", "cast": r["name"]} for r in recordings]
    heading = f"{s('recordings_of', lang)} — {title}" if title else s("recordings_of", lang)
    body = (f'<main class="replay"><h1>{escape(heading)}</h1>{recordings_table(lang, rows)}'
            + (player(lang) if player_present else f'<p class="error">{escape(s("no_player", lang))}</p>')
            + '</main>' + _cast_data(lang, [{k: v for k, v in r.items() if k != "bytes"} for r in recordings], idle))
    scripts = ('<script src="xterm.js" defer></script><script src="replay.js" defer></script>'
               if player_present else "")
    styles = ('<link rel="stylesheet" href="xterm.css">' if player_present else "") + \
        '<link rel="stylesheet" href="replay.css">'
    return (f'<!DOCTYPE html>\n<html lang="{escape(lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{escape(heading)}</title>{styles}{scripts}</head><body data-lang="{escape(lang)}">{body}'
            f'</body></html>\n')
