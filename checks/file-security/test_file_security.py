"""Checks of the file-security lab: competency 015 (ensure secure access to files).

Three angles on each folder of the shared tree (ids are the lab's fixed folder keys):

* ``test_structure``: owner, group, mode, access ACL and default ACL as ``getfacl`` shows them,
  naming every missing, wrong or extra entry;
* ``test_access``: verified by doing, as each user of the matrix (``runuser``): list the folder,
  read a document, create a file, delete a document; every discrepancy with the matrix is listed;
* ``test_inheritance``: an authorised user creates a sub-folder, a file, and a file in that
  sub-folder; they must carry the folder's rights (default ACL, setgid group) and the other users'
  access to them must follow the matrix.

Grading leaves the trainee's work as it was: every file a check creates has a name of its own
(``.tspcr-check-<random>...``), is removed in the same check (``finally``, even when the check
fails midway or runs out of time) and the folder's modification time is put back.
"""

from __future__ import annotations

import contextlib
import secrets
import time

import pytest

from tspcr_lab.errors import ProbeError
from tspcr_lab.probes.acl import Acl, effective, entry_text

FOLDERS = ["base", "dept1", "dept2", "direction", "common", "notes"]
INHERITING = ["dept1", "dept2", "direction", "common", "notes"]
FOLDER_NUMBER = {key: i + 1 for i, key in enumerate(FOLDERS)}  # as in the instructions: [1]..[6]

PREFIX = ".tspcr-check-"
CLEANUP_GRACE = 10.0  # seconds the cleanup may still take after the check's own time is up

YES, NO = "yes", "no"
OPERATIONS = {  # operation -> (French, English)
    "list": ("lister le dossier", "list the folder"),
    "read": ("lire un document", "read a document"),
    "create": ("créer un fichier", "create a file"),
    "delete": ("supprimer un document", "delete a document"),
    "read_new": ("lire le fichier créé", "read the new file"),
    "modify": ("modifier le fichier créé", "modify the new file"),
    "list_sub": ("lister le sous-dossier", "list the sub-folder"),
    "create_sub": ("créer un fichier dans le sous-dossier", "create a file in the sub-folder"),
}
FOLDER_OPERATIONS = ["list", "read", "create", "delete"]
INHERITED_OPERATIONS = ["read_new", "modify", "list_sub", "create_sub"]
ALLOWED = {"fr": "autorisé", "en": "allowed"}
DENIED = {"fr": "refusé", "en": "denied"}

# What a user tries in a folder (run as that user). $1 folder, $2 scratch prefix, $3 the user's number.
TRY_FOLDER = r"""
d=$1; p=$2; i=$3
if ls -- "$d" >/dev/null 2>&1; then echo list=yes; else echo list=no; fi
if cat -- "$d/${p}doc" >/dev/null 2>&1; then echo read=yes; else echo read=no; fi
if (: > "$d/${p}new-$i") 2>/dev/null; then echo create=yes; else echo create=no; fi
if rm -f -- "$d/${p}victim-$i" 2>/dev/null; then echo delete=yes; else echo delete=no; fi
"""

# What another user tries on what an authorised user created. $1 folder, $2 scratch prefix, $3 number.
TRY_INHERITED = r"""
d=$1; p=$2; i=$3
if cat -- "$d/${p}file" >/dev/null 2>&1; then echo read_new=yes; else echo read_new=no; fi
if (echo "tspcr-lab check" >> "$d/${p}file") 2>/dev/null; then echo modify=yes; else echo modify=no; fi
if ls -- "$d/${p}dir" >/dev/null 2>&1; then echo list_sub=yes; else echo list_sub=no; fi
if (: > "$d/${p}dir/new-$i") 2>/dev/null; then echo create_sub=yes; else echo create_sub=no; fi
"""

# The authorised user creates a sub-folder, a file, and a file in the sub-folder. $1 folder, $2 prefix.
CREATE_INHERITED = r"""
d=$1; p=$2
mkdir -- "$d/${p}dir" && echo "tspcr-lab check" > "$d/${p}file" && echo "tspcr-lab check" > "$d/${p}dir/file"
"""

# As root, before: the folder's modification time (nanoseconds), put back after the check.
MTIME = "stat -c %s -- %s"
# As root, after: remove everything the check created, put the folder's modification time back.
CLEANUP = r"""
d=$1; p=$2; mtime=$3
rm -rf -- "$d/$p"*
if [ -n "$mtime" ]; then touch -c -m -d "@$mtime" -- "$d"; fi
"""

EXPECTED_OUTCOMES = {  # matrix level -> what each operation must give
    "rw": {"list": YES, "read": YES, "create": YES, "delete": YES,
           "read_new": YES, "modify": YES, "list_sub": YES, "create_sub": YES},
    "r": {"list": YES, "read": YES, "create": NO, "delete": NO,
          "read_new": YES, "modify": NO, "list_sub": YES, "create_sub": NO},
    "-": {op: NO for op in OPERATIONS},
}


def _label(folder: str, expected: dict) -> str:
    return f"[{FOLDER_NUMBER[folder]}] {expected['folders'][folder]}"


def _fail(check, problems: list[tuple[str, str]], fr: str, en: str) -> None:
    __tracebackhide__ = True
    if problems:
        check.fail(fr=fr + " : " + " ; ".join(p[0] for p in problems),
                   en=en + ": " + "; ".join(p[1] for p in problems))


def _existing_folder(host, folder: str, expected: dict, check):
    """The folder's stat and ACL; fail (the trainee's work) when it is not a real directory."""
    __tracebackhide__ = True
    label = _label(folder, expected)
    found = host.probe(Acl, expected["folders"][folder])
    check.that(found.exists, fr=f"le dossier {label} n'existe pas", en=f"folder {label} does not exist")
    check.that(found.type == "directory", fr=f"{label} n'est pas un dossier (type : {found.type})",
               en=f"{label} is not a folder (type: {found.type})")
    return found


@contextlib.contextmanager
def scratch(host, path: str):
    """A private name prefix for what a check creates in ``path``; on the way out (always), remove
    it all and put the folder's modification time back, with a short grace period if the check's
    own time is up."""
    prefix = f"{PREFIX}{secrets.token_hex(4)}-"
    result = host.run(MTIME, "%.9Y", path)
    mtime = result.stdout.strip() if result.rc == 0 else ""
    try:
        yield prefix
    finally:
        saved = host.deadline
        if saved is not None:
            host.deadline = max(saved, time.monotonic() + CLEANUP_GRACE)
        try:
            done = host.run("sh -c %s sh %s %s %s", CLEANUP, path, prefix, mtime)
            if done.rc != 0:
                raise ProbeError(f"{host.name}: could not remove the check's files in {path}: {done.stderr.strip()}")
        finally:
            host.deadline = saved


def _gone(host, login: str) -> list[tuple[str, str]]:
    """A user of the matrix whose account was removed (their outcomes are then missing): the
    trainee's work, listed with the other discrepancies; [] when the account exists."""
    if host.run("id -u -- %s", login).rc == 0:
        return []
    return [(f"le compte {login} de la matrice n'existe plus sur srv1 (il ne fallait pas le supprimer)",
             f"account {login} of the matrix no longer exists on srv1 (it was not to be removed)")]


def _outcomes(output: str) -> dict[str, str]:
    found = {}
    for line in output.splitlines():
        op, sep, value = line.partition("=")
        if sep and op in OPERATIONS and value in (YES, NO):
            found[op] = value
    return found


def _discrepancies(login: str, level: str, found: dict[str, str], operations: list[str]) -> list[tuple[str, str]]:
    """One item per user whose outcomes differ from the matrix: every differing operation, with
    what it gave and what was expected."""
    wrong_fr, wrong_en = [], []
    for op in operations:
        want = EXPECTED_OUTCOMES[level][op]
        got = found.get(op)
        if got is None:
            raise ProbeError(f"no outcome for '{op}' as {login}")
        if got != want:
            fr_op, en_op = OPERATIONS[op]
            shown = {lang: ((ALLOWED if got == YES else DENIED)[lang], (ALLOWED if want == YES else DENIED)[lang])
                     for lang in ("fr", "en")}
            wrong_fr.append(f"{fr_op} {shown['fr'][0]} (attendu {shown['fr'][1]})")
            wrong_en.append(f"{en_op} {shown['en'][0]} (expected {shown['en'][1]})")
    if not wrong_fr:
        return []
    return [(f"{login} (droit {level}) : {', '.join(wrong_fr)}", f"{login} (right {level}): {', '.join(wrong_en)}")]


def _entries_problems(found: dict[str, str], want: dict[str, str], *, kind: tuple[str, str],
                      compare=None) -> list[tuple[str, str]]:
    """Missing, wrong and extra entries of one ACL (access or default), in getfacl notation.
    ``compare(entries, key)`` gives the permissions compared (default: as written)."""
    compare = compare or (lambda entries, key: entries.get(key))
    problems = []
    fr_kind, en_kind = kind
    for key, perms in want.items():
        got = compare(found, key)
        if got is None:
            problems.append((f"entrée {fr_kind} manquante {entry_text(key, perms)}",
                             f"missing {en_kind} entry {entry_text(key, perms)}"))
        elif got != perms:
            problems.append((f"entrée {fr_kind} {key} : attendu {perms}, trouvé {got}",
                             f"{en_kind} entry {key}: expected {perms}, found {got}"))
    for key in found:
        if key not in want:
            problems.append((f"entrée {fr_kind} en trop {entry_text(key, compare(found, key))}",
                             f"extra {en_kind} entry {entry_text(key, compare(found, key))}"))
    return problems


ACCESS = ("ACL", "ACL")
DEFAULT = ("ACL par défaut", "default ACL")


@pytest.mark.competency("015", points=1)
@pytest.mark.parametrize("folder", FOLDERS)
def test_structure(folder, hosts, expected, check):
    """Owner, group, mode, access ACL and default ACL of the folder, entry by entry."""
    spec = expected["acl"][folder]
    found = _existing_folder(hosts.srv1, folder, expected, check)
    problems: list[tuple[str, str]] = []
    for what, fr, en in (("owner", "propriétaire", "owner"), ("group", "groupe", "group")):
        if getattr(found, what) != spec[what]:
            problems.append((f"{fr} : attendu {spec[what]}, trouvé {getattr(found, what)}",
                             f"{en}: expected {spec[what]}, found {getattr(found, what)}"))
    if found.mode_text != spec["mode"]:
        problems.append((f"mode : attendu {spec['mode']}, trouvé {found.mode_text}",
                         f"mode: expected {spec['mode']}, found {found.mode_text}"))
    problems += _entries_problems(found.access, spec["access"], kind=ACCESS)
    if spec["default"] and not found.default:
        problems.append(("aucune ACL par défaut : les fichiers et dossiers créés n'hériteront pas des droits",
                         "no default ACL: new files and folders will not inherit the rights"))
    else:
        problems += _entries_problems(found.default, spec["default"], kind=DEFAULT)
    label = _label(folder, expected)
    _fail(check, problems, fr=f"droits du dossier {label}", en=f"rights of folder {label}")


@pytest.mark.competency("015", points=2)
@pytest.mark.parametrize("folder", FOLDERS)
def test_access(folder, hosts, expected, check):
    """As each user of the matrix: list the folder, read a document, create a file, delete a document."""
    srv = hosts.srv1
    path = expected["folders"][folder]
    _existing_folder(srv, folder, expected, check)
    levels = expected["levels"][folder]
    logins = list(levels)
    problems: list[tuple[str, str]] = []
    with scratch(srv, path) as prefix:
        # The documents users read and delete: created by root, as a document put there later
        # would be (so they carry what the folder gives new files).
        victims = " ".join(f'"$d/${{p}}victim-{i}"' for i in range(len(logins)))
        made = srv.run("sh -c %s sh %s %s",
                       f'd=$1; p=$2; echo "tspcr-lab check" > "$d/${{p}}doc" && touch {victims}', path, prefix)
        if made.rc != 0:
            raise ProbeError(f"srv1: could not create the check's documents in {path}: {made.stderr.strip()}")
        for i, login in enumerate(logins):
            result = srv.run_as(login, "sh -c %s sh %s %s %s", TRY_FOLDER, path, prefix, i)
            found = _outcomes(result.stdout)
            gone = [] if found else _gone(srv, login)
            problems += gone or _discrepancies(login, levels[login], found, FOLDER_OPERATIONS)
    label = _label(folder, expected)
    _fail(check, problems, fr=f"les accès au dossier {label} diffèrent de la matrice",
          en=f"access to folder {label} differs from the matrix")


def _inherited_acl(folder_default: dict[str, str], is_dir: bool) -> dict[str, str]:
    """What a new item gets from a default ACL (effective permissions): a folder (mkdir, mode 0777)
    gets it all; a file (mode 0666) loses the execute bit."""
    out = {}
    for key in folder_default:
        perms = effective(folder_default, key)
        out[key] = perms if is_dir else perms[:2] + "-"
    return out


@pytest.mark.competency("015", points=1)
@pytest.mark.parametrize("folder", INHERITING)
def test_inheritance(folder, hosts, expected, check):
    """What an authorised user creates inherits the folder's rights, for the other users too."""
    srv = hosts.srv1
    path = expected["folders"][folder]
    spec = expected["acl"][folder]
    _existing_folder(srv, folder, expected, check)
    levels = expected["levels"][folder]
    creator = next(login for login, level in levels.items() if level == "rw")
    label = _label(folder, expected)
    problems: list[tuple[str, str]] = []
    with scratch(srv, path) as prefix:
        made = srv.run_as(creator, "sh -c %s sh %s %s", CREATE_INHERITED, path, prefix)
        _fail(check, [] if made.rc == 0 else _gone(srv, creator), fr=f"héritage des droits non vérifiable dans {label}",
              en=f"inherited rights cannot be verified in {label}")
        check.that(made.rc == 0,
                   fr=f"{creator}, autorisé en écriture, n'a pas pu créer un sous-dossier et un fichier dans {label}",
                   en=f"{creator}, allowed to write, could not create a sub-folder and a file in {label}")
        items = (
            (f"{prefix}dir", True, ("le sous-dossier créé", "the new sub-folder")),
            (f"{prefix}file", False, ("le fichier créé", "the new file")),
            (f"{prefix}dir/file", False, ("le fichier créé dans le sous-dossier", "the file created in the sub-folder")),
        )
        for name, is_dir, (fr_item, en_item) in items:
            found = srv.probe(Acl, f"{path}/{name}")
            own: list[tuple[str, str]] = []
            if found.group != spec["group"]:
                own.append((f"groupe {found.group} au lieu de {spec['group']} (bit setgid du dossier ?)",
                            f"group {found.group} instead of {spec['group']} (the folder's setgid bit?)"))
            own += _entries_problems(found.access, _inherited_acl(spec["default"], is_dir), kind=ACCESS,
                                     compare=effective)
            if is_dir:
                if not found.default:
                    own.append(("n'a pas d'ACL par défaut : ce qui y sera créé n'héritera pas",
                                "has no default ACL: what is created in it will not inherit"))
                else:
                    own += _entries_problems(found.default, spec["default"], kind=DEFAULT)
                if not (found.mode or 0) & 0o2000:
                    own.append(("n'a pas le bit setgid", "lacks the setgid bit"))
            if own:
                problems.append((f"{fr_item} par {creator} : " + ", ".join(fr for fr, _ in own),
                                 f"{en_item} by {creator}: " + ", ".join(en for _, en in own)))
        for i, login in enumerate(levels):
            if login == creator:
                continue
            result = srv.run_as(login, "sh -c %s sh %s %s %s", TRY_INHERITED, path, prefix, i)
            found = _outcomes(result.stdout)
            gone = [] if found else _gone(srv, login)
            problems += gone or _discrepancies(login, levels[login], found, INHERITED_OPERATIONS)
    _fail(check, problems, fr=f"héritage des droits incohérent dans {label}",
          en=f"inherited rights in {label} are inconsistent")
