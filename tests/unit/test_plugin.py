"""Failed or error: where a check's exception comes from decides (tspcr_lab.plugin.classify).

ExceptionInfo objects are built from exceptions really raised by real code: this check module,
a helper module next to it, the engine (code compiled under tspcr_lab's folder), the standard
library; then whole check files run through the plugin with pytester.
"""

from __future__ import annotations

import importlib.util
import json
import unittest
from pathlib import Path

import pytest

from tspcr_lab.errors import InfraError, UnreadableFile
from tspcr_lab.expect import Check
from tspcr_lab.i18n import t
from tspcr_lab.labfile import checks_dir
from tspcr_lab.plugin import ENGINE, classify, is_check_module

pytest_plugins = ["pytester"]

HERE = Path(__file__)
GENERIC = {lang: t("error_public", lang) for lang in ("fr", "en")}


class Report:
    """What classify reads of a pytest report."""

    def __init__(self, passed=False, skipped=False):
        self.passed, self.skipped = passed, skipped


def raised(function, *args, **kwargs) -> pytest.ExceptionInfo:
    with pytest.raises(BaseException) as info:
        function(*args, **kwargs)
    return info


def throw(exc: BaseException):
    raise exc


def engine_function(relative: str, source: str, name: str):
    """A function whose code lives (for Python and tracebacks) in tspcr_lab/<relative>, as an
    ``assert`` written in the engine does. Nothing is written there: the code is compiled under
    that file name."""
    namespace: dict = {}
    exec(compile(source, str(ENGINE / relative), "exec"), namespace)
    return namespace[name]


def trainee_assert(found):
    assert found == "10.0.0.1/24", f"address: {found}"


def test_an_assert_in_the_check_module_is_a_failure():
    status, message, public = classify(raised(trainee_assert, "nothing"), Report(), "call", "en", module=HERE)
    assert (status, public) == ("failed", t("not_as_required", "en"))
    assert message.startswith("address: nothing")


def test_the_check_api_is_a_failure_wherever_it_raises():
    # Check.equal raises from tspcr_lab/expect.py: a CheckFailed is a finding, whatever the frame.
    info = raised(Check("fr").equal, "a", "b", fr="valeur", en="value")
    assert classify(info, Report(), "call", "fr", module=HERE) == (
        "failed", "valeur : attendu b, trouvé a", "valeur : non conforme (trouvé a)")
    # So is what a probe raises when the trainee's work cannot be read.
    info = raised(throw, UnreadableFile("/home/u/.neomuttrc", "directory"))
    status, message, public = classify(info, Report(), "call", "en", module=HERE)
    assert status == "failed" and message == public == "/home/u/.neomuttrc is not a regular file: it is a directory"


@pytest.mark.parametrize("relative", ["transport/ssh.py", "probes/_engine_probe.py"])
def test_an_assert_raised_in_the_engine_is_an_error(relative):
    boom = engine_function(relative.replace("ssh.py", "_engine_transport.py"),
                           "def login(transport=None):\n    assert transport is not None\n", "login")
    for lang in ("fr", "en"):
        status, message, public = classify(raised(boom), Report(), "call", lang, module=HERE)
        assert status == "error" and public == GENERIC[lang]
        assert message.startswith(t("check_bug", lang, cause="AssertionError"))
        where = {"fr": ":2 dans login", "en": ":2 in login"}[lang]
        assert "tspcr_lab/" in message and where in message  # where, for the examiner


def test_an_assertion_of_a_library_is_an_error():
    info = raised(unittest.TestCase().assertEqual, 1, 2)
    status, message, public = classify(info, Report(), "call", "en", module=HERE)
    assert status == "error" and "AssertionError: 1 != 2" in message and "unittest" in message
    assert public == GENERIC["en"]


def test_an_assert_in_a_helper_module_of_the_checks_folder_is_a_failure(tmp_path):
    folder = tmp_path / "checks" / "some-lab"
    folder.mkdir(parents=True)
    (folder / "helpers.py").write_text("def same(a, b):\n    assert a == b, f'{a} != {b}'\n")
    outside = tmp_path / "elsewhere.py"
    outside.write_text("def same(a, b):\n    assert a == b\n")
    module = folder / "test_some_lab.py"
    module.write_text("")

    def load(path: Path):
        spec = importlib.util.spec_from_file_location(f"mod_{path.stem}", path)
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
        return loaded

    status, message, _ = classify(raised(load(folder / "helpers.py").same, 1, 2), Report(), "call", "en", module=module)
    assert (status, message) == ("failed", "1 != 2")
    status, message, _ = classify(raised(load(outside).same, 1, 2), Report(), "call", "en", module=module)
    assert status == "error" and "elsewhere.py:2 in same" in message


def test_check_modules():
    assert is_check_module(checks_dir() / "ip-plan" / "test_ip_plan.py")
    assert is_check_module(checks_dir() / "mail-client" / "helpers.py")  # a helper inside checks/
    assert not is_check_module(ENGINE / "host.py")
    assert not is_check_module(unittest.__file__)
    assert not is_check_module("<string>")


def test_errors_show_a_generic_line_to_the_trainee():
    info = raised(throw, InfraError("pc1: cannot connect to 10.9.0.11:22 (refused)"))
    for lang in ("fr", "en"):
        status, message, public = classify(info, Report(), "call", lang, module=HERE)
        assert (status, message) == ("error", "pc1: cannot connect to 10.9.0.11:22 (refused)")
        assert public == GENERIC[lang] and "10.9.0.11" not in public
    # A fixture that failed (setup), a bug of the check: the same generic line.
    assert classify(info, Report(), "setup", "fr", module=HERE)[2] == GENERIC["fr"]
    bug = raised(lambda: {}["missing"])
    status, message, public = classify(bug, Report(), "call", "en", module=HERE)
    assert (status, message, public) == ("error", "the check itself failed: KeyError: 'missing'", GENERIC["en"])
    assert GENERIC["fr"].startswith("cette vérification n'a pas pu être exécutée")
    assert GENERIC["en"] == "this check could not run: not counted against you; the examiner has the details"


# -- whole check files through the plugin ----------------------------------------------------------

CHECKS = '''
import pytest
from tspcr_lab.errors import InfraError
from tspcr_lab.host import Host
from tspcr_lab.probes import FileContent
from tspcr_lab.transport.local import LocalTransport

SECRET = "Sapin-39e_+"
ENGINE = {engine!r}
namespace = {{}}
exec(compile("def transport_check(transport=None):\\n    assert transport is not None\\n", ENGINE, "exec"), namespace)


@pytest.mark.competency("030", points=1)
def test_plain_assert():
    assert "10.0.0.9/24" == "10.0.0.1/24"


@pytest.mark.competency("030", points=1)
def test_api(check):
    check.equal("10.0.0.9/24", "10.0.0.1/24", fr="adresse", en="address")


@pytest.mark.competency("030", points=1)
def test_engine_assert():
    namespace["transport_check"]()


@pytest.mark.competency("030", points=1)
def test_timeout_with_a_secret():
    host = Host("pc1", LocalTransport("pc1"))
    host.run("PASSWD=%s sleep 5", SECRET, timeout=0.3, secrets=(SECRET,))


@pytest.mark.competency("030", points=1)
def test_directory_instead_of_a_file(tmp_path):
    Host("pc1", LocalTransport("pc1")).probe(FileContent, str(tmp_path))


@pytest.mark.competency("030", points=1)
def test_unreachable():
    raise InfraError("pc1: cannot connect to 10.9.0.11:22 (No route to host)")
'''


def test_a_check_file_through_the_plugin(pytester):
    pytester.makepyfile(test_lab=CHECKS.format(engine=str(ENGINE / "transport" / "_engine_transport.py")))
    result = pytester.runpytest("-p", "no:cacheprovider", "--results", "r.json", "--lang", "en")
    checks = {c["id"]: c for c in json.loads((pytester.path / "r.json").read_text())["checks"]}
    status = {name: c["status"] for name, c in checks.items()}
    assert status == {"test_plain_assert": "failed", "test_api": "failed", "test_engine_assert": "error",
                      "test_timeout_with_a_secret": "error", "test_directory_instead_of_a_file": "failed",
                      "test_unreachable": "error"}
    result.assert_outcomes(failed=3, errors=3)
    engine = checks["test_engine_assert"]
    assert engine["message"].startswith("the check itself failed: AssertionError (raised at ")
    assert "_engine_transport.py:2 in transport_check" in engine["message"]
    timeout = checks["test_timeout_with_a_secret"]
    assert timeout["message"] == "pc1: a command did not finish within 0.3 s"
    assert "is not a regular file: it is a directory" in checks["test_directory_instead_of_a_file"]["public"]
    for name in ("test_engine_assert", "test_timeout_with_a_secret", "test_unreachable"):
        assert checks[name]["public"] == GENERIC["en"]
    text = (pytester.path / "r.json").read_text() + "\n".join(result.outlines)
    assert "Sapin-39e" not in text and "sleep 5" not in timeout["message"]


def test_the_exam_summary_in_french(pytester):
    pytester.makepyfile(test_lab=CHECKS.format(engine=str(ENGINE / "transport" / "_engine_transport.py")))
    pytester.runpytest("-p", "no:cacheprovider", "--results", "r.json", "-k", "unreachable or plain")
    checks = {c["id"]: c for c in json.loads((pytester.path / "r.json").read_text())["checks"]}
    assert checks["test_unreachable"]["public"] == GENERIC["fr"]
    assert checks["test_plain_assert"]["public"] == "non conforme"


def test_classify_without_a_module():
    """Without the check's module, only files under checks/ are check modules (this file is not)."""
    boom = engine_function("_engine_code.py", "def f():\n    assert False\n", "f")
    assert classify(raised(boom), Report(), "call", "en")[0] == "error"
    assert classify(raised(trainee_assert, "x"), Report(), "call", "en")[0] == "error"
