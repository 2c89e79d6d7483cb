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
