"""What people read, in French (default) and English."""

from __future__ import annotations

LANGS = ("fr", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "expected_found": {"fr": "{what} : attendu {expected}, trouvé {found}",
                       "en": "{what}: expected {expected}, found {found}"},
    "found_only": {"fr": "{what} : non conforme (trouvé {found})", "en": "{what}: not as required (found {found})"},
    "not_as_required": {"fr": "non conforme", "en": "not as required"},
    "nothing": {"fr": "rien", "en": "nothing"},
    # What a trainee reads of a check that could not run (an error): never its technical cause.
    "host_not_running": {"fr": "{hosts} ne fonctionne pas : cette vérification n'a pas pu être jugée",
                         "en": "{hosts} is not running: this check could not be judged"},
    "error_public": {"fr": "cette vérification n'a pas pu être exécutée : elle n'est pas comptée contre vous ; "
                           "l'examinateur en a le détail",
                     "en": "this check could not run: not counted against you; the examiner has the details"},
    # What the examiner reads of a check whose own code failed (not the trainee's work).
    "check_bug": {"fr": "la vérification elle-même a échoué : {cause}", "en": "the check itself failed: {cause}"},
    "raised_at": {"fr": "levée en {file}:{line} dans {function}", "en": "raised at {file}:{line} in {function}"},
    "not_a_file": {"fr": "{path} n'est pas un fichier ordinaire : c'est {kind}",
                   "en": "{path} is not a regular file: it is {kind}"},
    "file_denied": {"fr": "{path} ne peut pas être lu : permission refusée", "en": "{path} cannot be read: permission denied"},
    "pending": {"fr": "à évaluer", "en": "to be marked"},
    "manual": {"fr": "manuel", "en": "manual"},
    "manual_items": {"fr": "Critères évalués par l'examinateur", "en": "Items marked by the examiner"},
    "comment": {"fr": "Commentaire", "en": "Comment"},
    "passed": {"fr": "réussi", "en": "passed"},
    "failed": {"fr": "échoué", "en": "failed"},
    "error": {"fr": "erreur", "en": "error"},
    "skipped": {"fr": "ignoré", "en": "skipped"},
    "mastered": {"fr": "acquis", "en": "mastered"},
    "not_mastered": {"fr": "non acquis", "en": "not mastered"},
    "incomplete": {"fr": "incomplet", "en": "incomplete"},
    "trainee": {"fr": "Stagiaire", "en": "Trainee"},
    "access_code": {"fr": "Accès au laboratoire (identifiant / code)", "en": "Lab access (id / code)"},
    "trainees": {"fr": "stagiaires", "en": "trainees"},
    "hosts": {"fr": "Machines", "en": "Hosts"},
    "lab": {"fr": "Laboratoire", "en": "Lab"},
    "score": {"fr": "Score", "en": "Score"},
    "competency": {"fr": "Compétence", "en": "Competency"},
    "title": {"fr": "Intitulé", "en": "Title"},
    "points": {"fr": "Points", "en": "Points"},
    "result": {"fr": "Résultat", "en": "Result"},
    "check": {"fr": "Vérification", "en": "Check"},
    "message": {"fr": "Constat", "en": "Finding"},
    "hint": {"fr": "Indice", "en": "Hint"},
    "grade_incomplete": {
        "fr": "Note incomplète : {n} vérification(s) n'ont pas pu être exécutées (problème d'infrastructure, pas une erreur du stagiaire).",
        "en": "Incomplete grade: {n} check(s) could not run (an infrastructure problem, not the trainee's fault).",
    },
    "grade_pending": {"fr": "Note incomplète : {n} critère(s) restent à évaluer par l'examinateur.",
                      "en": "Incomplete grade: {n} item(s) still to be marked by the examiner."},
    "grade_complete": {"fr": "Note complète.", "en": "Complete grade."},
    "report_title": {"fr": "Rapport d'évaluation", "en": "Assessment report"},
    "report_written": {"fr": "Rapport : {path}", "en": "Report: {path}"},
    "all_passed": {"fr": "Toutes les vérifications sont réussies.", "en": "Every check passed."},
}


# What ``stat -c %F`` calls a path, as a sentence says it.
FILE_KINDS: dict[str, dict[str, str]] = {
    "directory": {"fr": "un dossier", "en": "a directory"},
    "fifo": {"fr": "un tube nommé (fifo)", "en": "a named pipe (fifo)"},
    "socket": {"fr": "une socket", "en": "a socket"},
    "character special file": {"fr": "un périphérique caractère", "en": "a character device"},
    "block special file": {"fr": "un périphérique bloc", "en": "a block device"},
}


def file_kind(kind: str, lang: str) -> str:
    """``"directory"`` -> "un dossier" / "a directory"; an unknown kind is shown as it is."""
    texts = FILE_KINDS.get(kind.strip().lower())
    if texts is None:
        return f"« {kind} »" if lang == "fr" else f"'{kind}'"
    return texts.get(lang) or texts["en"]


def t(key: str, lang: str, **values: object) -> str:
    texts = MESSAGES[key]
    text = texts.get(lang) or texts["en"]
    return text.format(**values) if values else text


def pick(texts: dict[str, str], lang: str) -> str:
    """One text out of a {lang: text} table (French, then English, as fallbacks)."""
    return texts.get(lang) or texts.get("fr") or texts.get("en") or ""


# -- check titles: ``[titles]`` of a lab file, ``{name}`` placeholders filled with a check's parameters --

CASE_NUMBER = "n"  # the placeholder of a parametrized case's number (1, 2...), unless a parameter has that name


def title_placeholders(template: str) -> list[str]:
    """The ``{name}`` placeholders of a title, in order; ValueError for anything else (an
    unbalanced brace, ``{0}``, ``{a.b}``, ``{a[0]}``, a conversion or a format spec)."""
    import string

    names = []
    for _, field, spec, conversion in string.Formatter().parse(template):
        if field is None:
            continue
        if not field.isidentifier():
            raise ValueError(f"placeholder {{{field}}} is not a parameter name" if field else
                             "empty placeholder {} (write {name}, a parameter of the check)")
        if spec or conversion:
            raise ValueError(f"placeholder {{{field}}} takes no conversion or format")
        names.append(field)
    return names


def one_line(text: str) -> str:
    """A title is one line of printable text, whatever a parameter holds."""
    import unicodedata

    shown = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    return " ".join(shown.split())


def title_values(params: dict[str, object], number: int | None = None) -> dict[str, str]:
    """What a title's placeholders stand for: each parameter of the check (a value that is not a
    string is shown with str()), and ``{n}``, the number of a parametrized case (1 for the first
    value of its parametrize)."""
    values = {name: value if isinstance(value, str) else str(value) for name, value in params.items()}
    if number is not None:
        values.setdefault(CASE_NUMBER, str(number))
    return values


def render_title(template: str, values: dict[str, str]) -> str:
    """The title with its placeholders filled, on one line; KeyError for a placeholder with no value."""
    return one_line(template.format_map({name: values[name] for name in title_placeholders(template)}))


def check_title(texts: dict[str, str] | None, lang: str, values: dict[str, str], *, doc: str | None = None,
                case_id: str | None = None, check_id: str = "") -> str:
    """A check's human title: the lab file's (in ``lang``, its placeholders filled from
    ``values``, see :func:`title_values`), else the first line of its docstring (with the case,
    ``— pc2``, for a parametrized check), else its id."""
    if texts:
        try:
            title = render_title(pick(texts, lang), values)
        except (KeyError, ValueError):  # said at collection (the plugin); never a crash here
            title = ""
        if title:
            return title
    lines = (doc or "").strip().splitlines()
    first = one_line(lines[0]) if lines else ""
    if first:
        return f"{first} — {one_line(case_id)}" if case_id else first
    return one_line(check_id) or check_id
