"""The tspcr-lab pytest plugin (entry point ``pytest11``).

Checks are ordinary pytest tests under ``checks/<lab>/``. A check says what it evidences with a
marker and receives fixtures::

    @pytest.mark.competency("030", points=2, critical=False)
    def test_address(hosts, expected, check): ...

Fixtures: ``lab`` (the lab file), ``params`` (what the trainee was given), ``expected`` (what the
checks expect), ``hosts`` (a handle per host, ``hosts.pc1.run(...)``), ``devices`` (CLI sessions
with network devices, ``devices.login("r1", ...)``), ``probe_port`` (a grader-owned port on a lab
segment: raw frames, ``probe_port("trunk")``), ``prober`` (the same port as a probe host with an
address: SYN probes, DNS, DHCP, ``prober("guest").syn(...)``), ``check`` (expectations with messages in the
trainee's language), ``lab_context`` (all of it).

Outcomes (:func:`classify`): *passed*; *failed* (the trainee's work is wrong: a ``CheckFailed``,
raised through the check API or by a probe that found the work unreadable, or a plain ``assert``
written in a check module); *error* (the check could not run: an ``InfraError`` such as an
unreachable host, a timeout, the lab not up, or a bug in the check or the engine, an
``AssertionError`` raised in tspcr_lab included), which pytest and its reporters show as an
error, never as a failure; *skipped*. What a trainee reads of an error during an exam is one
generic line; its cause is for the examiner. The competency, points, status, message and evidence of each
check go into the report's ``user_properties`` (as junitxml does with markers), from which the
:class:`~tspcr_lab.reporting.ResultsReporter` builds ``results.json`` and the HTML report's
additions. Reporters register only when their option is given, and never on xdist workers.
"""

from __future__ import annotations

import difflib
import inspect
import linecache
import sysconfig
import time
from pathlib import Path
from typing import Any

import pytest

from .errors import CheckFailed, InfraError, TspcrError, UserError
from .expect import Check
from .i18n import CASE_NUMBER, LANGS, check_title, t, title_placeholders, title_values

CONTEXTS = pytest.StashKey[dict]()
EVIDENCE = pytest.StashKey[list]()
TITLES = pytest.StashKey[dict]()
COMPETENCY = pytest.StashKey[str]()  # a check's competency set at run time (counts_for)
MAX_EVIDENCE_TEXT = 64 * 1024


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tspcr-lab", "tspcr-lab lab checks")
    group.addoption("--lab", dest="tspcr_lab", help="lab id (default: the folder name under checks/)")
    group.addoption("--instance", dest="tspcr_instance", help="virtual lab instance (default: the lab id)")
    group.addoption("--inventory", dest="tspcr_inventory", help="pyinfra inventory of a real lab")
    group.addoption("--station", dest="tspcr_station",
                    help="the inventory group holding this trainee's hosts (a class on real gear)")
    group.addoption("--reconnect-each-check", dest="tspcr_reconnect", action="store_true",
                    help="open new connections for every check instead of pooling them (for comparisons)")
    group.addoption("--seed", dest="tspcr_seed", type=int, help="the trainee's seed (default: the virtual lab's)")
    group.addoption("--trainee", dest="tspcr_trainee", help="the trainee's name")
    group.addoption("--lang", dest="tspcr_lang", choices=LANGS, default="fr", help="language of messages")
    group.addoption("--results", dest="tspcr_results", help="write results.json to this path")
    group.addoption("--rubric", dest="tspcr_rubric", action="append", default=[],
                    help="a rubric file of manual items to add to the lab's own (repeatable)")
    group.addoption("--marks", dest="tspcr_marks", help="the examiner's marks of manual items (CSV or TOML)")
    group.addoption("--trainee-id", dest="tspcr_trainee_id", default="",
                    help="the trainee's id in a class (selects their rows of --marks)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "competency(code, points=1, critical=False, timeout=None): the competency a check evidences, "
        "what it is worth, whether failing it denies mastery, and its time limit in seconds",
    )
    config.stash[CONTEXTS] = {}
    if hasattr(config, "workerinput"):
        return  # xdist worker: the controller reports
    from .reporting import HtmlAdditions, ResultsReporter

    if config.getoption("tspcr_results") or config.getoption("htmlpath", None):
        reporter = ResultsReporter(config)
        config.pluginmanager.register(reporter, "tspcr-results")
        if config.getoption("htmlpath", None) and config.pluginmanager.hasplugin("html"):
            config.pluginmanager.register(HtmlAdditions(reporter), "tspcr-html")


def pytest_unconfigure(config: pytest.Config) -> None:
    for context in config.stash.get(CONTEXTS, {}).values():
        if not isinstance(context, BaseException):
            context.hosts.close()
            context.devices.close()


def lab_id_for(config: pytest.Config, path: Path) -> str:
    """The lab a check file belongs to: ``--lab``, else its folder (checks/<lab>/test_x.py)."""
    return config.getoption("tspcr_lab") or path.parent.name


def _context(config: pytest.Config, path: Path):
    from .context import open_context

    lab_id = lab_id_for(config, path)
    cache = config.stash[CONTEXTS]
    if lab_id not in cache:
        try:
            cache[lab_id] = open_context(
                lab_id,
                instance=config.getoption("tspcr_instance"),
                inventory=config.getoption("tspcr_inventory"),
                station=config.getoption("tspcr_station"),
                seed=config.getoption("tspcr_seed"),
                trainee=config.getoption("tspcr_trainee"),
            )
        except TspcrError as exc:
            cache[lab_id] = exc
    context = cache[lab_id]
    if isinstance(context, BaseException):
        raise InfraError(str(context))
    return context


def _lab_titles(config: pytest.Config, path: Path) -> tuple[Path | None, dict[str, dict[str, str]]]:
    """(lab file, its [titles]) of the lab a check file belongs to; no titles when the lab file
    cannot be read (what is wrong with it is said by every check, which cannot run)."""
    lab_id = lab_id_for(config, path)
    cache = config.stash.setdefault(TITLES, {})
    if lab_id not in cache:
        from .labfile import load_lab

        try:
            lab = load_lab(lab_id)
            cache[lab_id] = (lab.path / "lab.toml", lab.titles)
        except TspcrError:
            cache[lab_id] = (None, {})
    return cache[lab_id]


def _check_names(folder: Path) -> set[str]:
    """The test functions (and methods) defined in the check files of a folder."""
    import ast

    names: set[str] = set()
    for path in sorted(folder.glob("test_*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        except (OSError, SyntaxError, ValueError):
            continue  # pytest says why when it collects it
        names.update(node.name for node in ast.walk(tree)
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"))
    return names


def title_problem(config: pytest.Config, path: Path, collected: list) -> str | None:
    """What is wrong with the lab file's [titles] for a check module, on one line: a title for a
    check that does not exist, or a placeholder that is not a parameter of its check."""
    file, titles = _lab_titles(config, path)
    if not titles:
        return None
    functions: dict[str, list[pytest.Function]] = {}
    for node in collected:
        if isinstance(node, pytest.Function):
            functions.setdefault(node.originalname, []).append(node)
    known: set[str] | None = None
    for name, texts in titles.items():
        if name not in functions:
            known = _check_names(path.parent) if known is None else known
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                return (f"{file}: titles.{name}: no check {name} in {_shown_path(path.parent)}"
                        + (f" (did you mean '{close[0]}'?)" if close else ""))
            continue  # a check of another file of the lab, or a method of a class
        for item in functions[name]:
            callspec = getattr(item, "callspec", None)
            params = set(callspec.params) if callspec is not None else set()
            allowed = params | {CASE_NUMBER} if params else params
            for lang, text in texts.items():
                unknown = [p for p in title_placeholders(text) if p not in allowed]
                if unknown:
                    return (f"{file}: titles.{name}: unknown placeholder {{{unknown[0]}}} in the {lang} title "
                            f"(placeholders of {name}: {', '.join('{%s}' % p for p in sorted(allowed)) or 'none'})")
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """A lab file whose [titles] do not fit its checks makes their module fail to collect, with
    one line naming the file and the key (reporters show it as checks that could not run)."""
    outcome = yield
    report = outcome.get_result()
    if isinstance(collector, pytest.Module) and report.passed:
        problem = title_problem(collector.config, Path(collector.path), report.result)
        if problem:
            report.outcome, report.longrepr, report.result = "failed", problem, []


def item_title(item: pytest.Item, lang: str) -> str:
    """What reports show for a check: its title in the lab file, with its parameters, else the
    first line of its docstring, else its id."""
    _, titles = _lab_titles(item.config, item.path)
    callspec = getattr(item, "callspec", None)
    values = {}
    if callspec is not None:
        first = next(iter(callspec.params), None)
        values = title_values(callspec.params, callspec.indices.get(first, 0) + 1 if first is not None else None)
    function = getattr(item, "obj", None)
    return check_title(titles.get(getattr(item, "originalname", item.name)), lang, values,
                       doc=inspect.getdoc(function) if function is not None else None,
                       case_id=callspec.id if callspec is not None else None, check_id=item.name)


@pytest.fixture(scope="module")
def lab_context(request: pytest.FixtureRequest):
    return _context(request.config, request.path)


@pytest.fixture(scope="module")
def lab(lab_context):
    return lab_context.lab


@pytest.fixture(scope="module")
def params(lab_context) -> dict[str, Any]:
    return lab_context.params.params


@pytest.fixture(scope="module")
def expected(lab_context) -> dict[str, Any]:
    return lab_context.params.expected


@pytest.fixture(scope="module")
def hosts(lab_context):
    return lab_context.hosts


@pytest.fixture(scope="module")
def devices(lab_context):
    """CLI sessions with the lab's network devices: ``devices.login("r1", user, password,
    driver=FrrDriver)`` (see :mod:`tspcr_lab.devices.sessions`)."""
    return lab_context.devices


@pytest.fixture
def check(request: pytest.FixtureRequest) -> Check:
    return Check(request.config.getoption("tspcr_lang"))


@pytest.fixture
def probe_port(request: pytest.FixtureRequest, lab_context):
    """Opens one of the lab's grader-owned probe ports (``[[probe_ports]]``): ``port =
    probe_port("trunk")``, a :class:`~tspcr_lab.probes.frames.FramePort` closed after the check,
    whose frames sent and heard are the check's evidence. On a target without that port (a real
    lab whose inventory names no probe host for it) opening one raises ProbeError: the check is an
    error, never a pass."""
    from .probes.frames import open_probe_port

    yield from _probes(request, lab_context, open_probe_port)


@pytest.fixture
def prober(request: pytest.FixtureRequest, lab_context):
    """Opens one of the lab's probe ports that has an address as a probe host of its segment:
    ``p = prober("guest")``, a :class:`~tspcr_lab.probes.packets.Prober` (SYN and UDP probes, DNS,
    DHCP, ARP, TCP connections) with the trainee's plan's address, closed after the check, whose
    probes are the check's evidence. A port the target lacks, or without an address: ProbeError
    (the check is an error, never a pass)."""
    from .probes.packets import open_prober

    yield from _probes(request, lab_context, open_prober)


@pytest.fixture
def probe_radio(request: pytest.FixtureRequest, lab_context):
    """Opens the grader's radio on one of the lab's radio VMs: ``air = probe_radio("air")``, a
    :class:`~tspcr_lab.probes.radio.RadioProbe` (join attempts, captures of the air) whose
    attempts are the check's evidence. A target without it (a real lab whose inventory names no
    probe radio): ProbeError (the check is an error, never a pass)."""
    from .probes.radio import open_probe_radio

    yield from _probes(request, lab_context, open_probe_radio)


def _noter(request: pytest.FixtureRequest, source: str):
    evidence = request.node.stash.setdefault(EVIDENCE, [])

    def add(what: str, detail: str, host: str = source) -> None:
        evidence.append({"host": host, "command": what, "rc": 0, "stdout": detail[:MAX_EVIDENCE_TEXT], "stderr": "",
                         "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "duration": 0.0})

    return add


@pytest.fixture
def counts_for(request: pytest.FixtureRequest):
    """Sets the competency a check counts for when only the trainee's variant tells it (a
    troubleshooting ticket counts for its fault's competency): ``counts_for("021")``. The
    marker's competency stays the one of a check that could not get that far."""
    from .referential import load

    def set_code(code: str) -> None:
        request.node.stash[COMPETENCY] = load().competency(code).code

    return set_code


@pytest.fixture
def note(request: pytest.FixtureRequest):
    """Adds a line to the check's evidence that is not a command's result (what a shared probe or
    a comparison found): ``note(what, detail, host="grader")``."""
    return _noter(request, "grader")


def _probes(request: pytest.FixtureRequest, lab_context, opener):
    """A probe fixture's body: ``opener(context, name, record)`` per port asked for, its probes
    recorded as the check's evidence, closed after the check."""
    opened = []

    def open_port(name: str):
        port = opener(lab_context, name, _noter(request, f"probe port {name}"))
        opened.append(port)
        return port

    yield open_port
    for port in opened:
        port.close()


@pytest.fixture(autouse=True)
def _tspcr_check_limits(request: pytest.FixtureRequest):
    """Around each check: a deadline for its commands and a record of what it read (evidence)."""
    marker = request.node.get_closest_marker("competency")
    if marker is None or "lab_context" not in request.fixturenames:
        yield
        return
    context = request.getfixturevalue("lab_context")
    timeout = marker.kwargs.get("timeout") or context.lab.check_timeout
    evidence = request.node.stash.setdefault(EVIDENCE, [])
    deadline = time.monotonic() + float(timeout)

    def record(result) -> None:
        evidence.append({
            "host": result.host,
            "command": result.command,
            "rc": result.rc,
            "stdout": result.stdout[:MAX_EVIDENCE_TEXT],
            "stderr": result.stderr[:MAX_EVIDENCE_TEXT],
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(result.started)),
            "duration": round(result.duration, 4),
        })

    for host in context.hosts.values():
        host.deadline, host.recorder = deadline, record
    context.devices.recorder = record
    try:
        yield
    finally:
        reconnect = request.config.getoption("tspcr_reconnect")
        context.devices.recorder = None
        for host in context.hosts.values():
            host.deadline, host.recorder = None, None
            if reconnect:
                host.close()
        if reconnect:
            context.devices.close()


def _marker_values(item: pytest.Item) -> tuple[str, float, bool] | None:
    marker = item.get_closest_marker("competency")
    if marker is None:
        return None
    if not marker.args:
        raise UserError(f"{item.nodeid}: @pytest.mark.competency needs a competency code")
    from .referential import load

    code = item.stash.get(COMPETENCY, None) or load().competency(marker.args[0]).code
    points = float(marker.kwargs.get("points", 1))
    return code, points, bool(marker.kwargs.get("critical", False))


def classify(excinfo: pytest.ExceptionInfo | None, report: pytest.TestReport, when: str, lang: str, *,
             module: Path | None = None) -> tuple[str, str, str]:
    """(status, message, public message) of a finished check.

    * ``CheckFailed`` (the check API, or a probe that found the trainee's work unreadable):
      *failed*, with its finding;
    * a bare ``AssertionError``: *failed* only when the innermost frame that raised it is in a
      check module (``module``, the check's own file, or a file of its folder or of ``checks/``);
      raised anywhere else (the engine, a library) it is a bug: *error*, "the check itself
      failed", with where it was raised;
    * anything else (``InfraError``, a bug): *error*.

    The public message is what a trainee reads during an exam: the finding without expected
    values for a failure, one generic line for an error (never the exception's text).
    """
    if excinfo is None:
        return ("passed", "", "") if report.passed else ("skipped", "", "")
    exc = excinfo.value
    if report.skipped:
        text = str(getattr(exc, "msg", "") or exc)
        return "skipped", text, text
    error_public = t("error_public", lang)
    if when != "call":
        return "error", _one_line(exc), error_public
    if isinstance(exc, CheckFailed):
        return "failed", exc.message(lang), exc.public_message(lang) or t("not_as_required", lang)
    if isinstance(exc, (InfraError, UserError)):
        return "error", _one_line(exc), error_public
    if isinstance(exc, AssertionError):
        where = _raised_at(excinfo)
        if where is not None and is_check_module(where[0], module):
            return "failed", _one_line(exc) if str(exc).strip() else "assertion failed", t("not_as_required", lang)
        cause = f"{type(exc).__name__}" + (f": {_one_line(exc)}" if str(exc).strip() else "")
        if where is not None:
            path, line, function = where
            source = linecache.getline(str(path), line).strip()
            cause += (f" ({t('raised_at', lang, file=_shown_path(path), line=line, function=function)}"
                      + (f": {source}" if source else "") + ")")
        return "error", t("check_bug", lang, cause=cause), error_public
    return "error", t("check_bug", lang, cause=f"{type(exc).__name__}: {_one_line(exc)}"), error_public


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


ENGINE = Path(__file__).resolve().parent


def _library_folders() -> tuple[Path, ...]:
    """Where Python's standard library and installed packages live (never a check module)."""
    paths = sysconfig.get_paths()
    return tuple({Path(paths[key]).resolve() for key in ("stdlib", "platstdlib", "purelib", "platlib") if paths.get(key)})


def is_check_module(path: Path | str, module: Path | str | None = None) -> bool:
    """True when ``path`` is a check module: the check's own file ``module``, a file of its folder
    (``checks/<lab>/``, helpers included) or of the project's ``checks/`` folder; never a file of
    tspcr_lab itself, of Python or of an installed package."""
    from .labfile import checks_dir

    if str(path).startswith("<"):  # code compiled from a string, frozen modules
        return False
    try:
        path = Path(path).resolve()
        module = Path(module).resolve() if module is not None else None
    except (OSError, ValueError):
        return False
    if path == module:
        return True
    if path.is_relative_to(ENGINE) or any(path.is_relative_to(folder) for folder in _library_folders()):
        return False
    roots = [checks_dir().resolve()] + ([module.parent] if module is not None else [])
    return any(path.is_relative_to(root) for root in roots)


def _raised_at(excinfo: pytest.ExceptionInfo) -> tuple[Path, int, str] | None:
    """(file, line, function) of the innermost frame of the traceback: where it was raised."""
    tb = excinfo.tb
    if tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return Path(code.co_filename), tb.tb_lineno, code.co_name


def _shown_path(path: Path) -> str:
    """A path as the examiner reads it: relative to the project when it is inside."""
    for base in (ENGINE.parent, Path.cwd()):
        try:
            return str(path.resolve().relative_to(base))
        except ValueError:
            continue
    return str(path)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    marker_error = ""
    try:
        values = _marker_values(item)
    except TspcrError as exc:  # a typo in a marker: the check cannot be scored
        values, marker_error = ("", 0.0, False), str(exc)
    if values is None:
        return
    final = call.when == "call" or (call.when == "setup" and not report.passed)
    if not final:
        return
    code, points, critical = values
    lang = item.config.getoption("tspcr_lang")
    status, message, public = classify(call.excinfo, report, call.when, lang, module=item.path)
    if status == "failed":
        stopped = _hosts_not_running(item)
        if stopped:  # what a stopped host would have shown cannot be known: not the trainee's failure
            status, message, public = "error", t("host_not_running", lang, hosts=", ".join(stopped)), \
                t("error_public", lang)
    if marker_error:
        status, message, public = "error", marker_error, t("error_public", lang)
        report.outcome, report.longrepr = "failed", marker_error
    if status == "error" and call.when == "call":
        # Not the trainee's failure: pytest, junitxml and pytest-html all show it as an error.
        report.when = "setup"
    if status in ("failed", "error") and call.excinfo is not None and isinstance(
        call.excinfo.value, (CheckFailed, InfraError, UserError)
    ):
        report.longrepr = message
    evidence = item.stash.get(EVIDENCE, [])
    if evidence:
        report.sections.append(("tspcr evidence", _evidence_text(evidence)))
    report.user_properties.extend([
        ("lab", lab_id_for(item.config, item.path)),
        ("check", getattr(item, "originalname", item.name)),
        ("title", item_title(item, lang)),
        ("competency", code),
        ("points", points),
        ("critical", critical),
        ("status", status),
        ("earned", points if status == "passed" else 0.0),
        ("message", message),
        ("public", public),
        ("evidence", evidence),
    ])


def _hosts_not_running(item: pytest.Item) -> list[str]:
    """The lab's hosts that its target knows to be stopped (a virtual host's processes gone)."""
    context = item.config.stash[CONTEXTS].get(lab_id_for(item.config, item.path))
    if context is None or isinstance(context, BaseException):
        return []
    return [name for name, host in context.hosts.items() if host.transport.running() is False]


def _evidence_text(evidence: list[dict[str, Any]]) -> str:
    parts = []
    for e in evidence:
        parts.append(f"[{e['time']}] {e['host']}$ {e['command']}  (rc={e['rc']}, {e['duration']}s)")
        if e["stdout"]:
            parts.append(e["stdout"].rstrip("\n"))
        if e["stderr"]:
            parts.append("stderr: " + e["stderr"].rstrip("\n"))
    return "\n".join(parts)
