"""Lab files: ``labs/<id>/lab.toml`` declares a lab's topology, scoring rules and parameters.

A lab folder holds::

    lab.toml       what this module reads (see labs/ip-plan/lab.toml for a commented example)
    params.py      generate(seed, lab) -> (params, expected): the trainee's parameters and the
                   values the checks expect, both plain dicts derived from the seed only
    deploy.py      pyinfra deploy: the starting state
    solution.py    pyinfra deploy: a correct trainee's work
    samples/*.py   pyinfra deploys: sample trainee work (partly right...) for demos and tests

and its checks live in ``checks/<id>/``. Every error in a lab file is reported as one line naming
the file and the key (``UserError``), with a suggestion when a key looks like a typo.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from .errors import UserError

ROLES = ("pc", "server", "router", "switch", "ap")
NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,9}$")
IFACE_RE = re.compile(r"^[a-z][a-z0-9]{0,9}$")
LAB_ID_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
MAX_RADIO_HOSTS = 6  # wireless hosts in one radio VM (each has a radio, the grader one more)
PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]{1,62}$")  # a Debian package name


def project_root() -> Path:
    """The folder holding ``labs/`` and ``checks/``: $TSPCR_HOME, else the source checkout."""
    env = os.environ.get("TSPCR_HOME")
    return Path(env) if env else Path(__file__).resolve().parent.parent


def labs_dir() -> Path:
    return project_root() / "labs"


def checks_dir() -> Path:
    return project_root() / "checks"


DEFAULT_DISK_MIB = 1024


@dataclasses.dataclass(frozen=True)
class HostSpec:
    name: str
    role: str
    mgmt: str  # management address of the host (interface mgmt0)
    interfaces: tuple[str, ...] = ()
    radio: str | None = None  # the radio VM ([[radios]]) it lives in: a wireless host with a phy of its own
    # the size of its disk in MiB: on the virtual lab its writable layer is a file system of that
    # size (df shows it; writing more fails with "No space left on device", as on a full disk)
    disk: int = DEFAULT_DISK_MIB


@dataclasses.dataclass(frozen=True)
class RadioSpec:
    """A radio VM (``[[radios]]``): on the virtual lab, one small virtual machine holding the lab's
    wireless hosts (the hosts whose ``radio`` names it), each a namespace of the VM that owns an
    802.11 radio of its own (mac80211_hwsim), plus the grader's probe radio, which no host sees.
    The machine's kernel has no wireless stack: the VM runs the image's own kernel
    (:mod:`tspcr_lab.virtual.radio`)."""

    name: str
    mgmt: str  # the VM's control address on the management network: the grader's only
    memory: int = 256  # MiB of the VM


@dataclasses.dataclass(frozen=True)
class LinkSpec:
    host: str
    iface: str
    switch: str


@dataclasses.dataclass(frozen=True)
class ProbePortSpec:
    """A grader-owned probe port plugged into a segment (``[[probe_ports]]``): where checks send and
    hear raw frames (:mod:`tspcr_lab.probes.frames`) and, when it has an ``address`` (and a
    ``gateway``), IP packets of a probe host of that segment (:mod:`tspcr_lab.probes.packets`).
    Both may be ``{{ expected.x }}`` placeholders: the trainee's plan says them."""

    name: str
    switch: str
    address: str | None = None  # CIDR, or a placeholder
    gateway: str | None = None

    def resolve(self, values: dict[str, Any]) -> tuple[ipaddress.IPv4Interface, ipaddress.IPv4Address | None]:
        """The port's address and gateway with the trainee's ``values`` (``{"params": ...,
        "expected": ...}``). UserError when it has none or a value is not one."""
        if self.address is None:
            raise UserError(f"probe port '{self.name}' has no address in the lab file (address = \"CIDR\"): "
                            f"it carries raw frames only")

        def fill(key: str, text: str) -> str:
            def value(match: re.Match) -> str:
                try:
                    return str(placeholder_value(values, match))
                except KeyError:
                    raise UserError(f"probe port '{self.name}': {key}: no value "
                                    f"{match.group(1)}{match.group(2)}") from None
            return PLACEHOLDER_RE.sub(value, text)

        address = fill("address", self.address)
        try:
            interface = ipaddress.IPv4Interface(address)
            if "/" not in address or interface.network.prefixlen >= 31:
                raise ValueError
        except ValueError:
            raise UserError(f"probe port '{self.name}': address {address!r} is not an IPv4 address with its "
                            f"prefix (e.g. 10.0.0.250/24)") from None
        gateway = None
        if self.gateway is not None:
            text = fill("gateway", self.gateway)
            try:
                gateway = ipaddress.IPv4Address(text)
            except ValueError:
                raise UserError(f"probe port '{self.name}': gateway {text!r} is not an IPv4 address") from None
            if gateway not in interface.network:
                raise UserError(f"probe port '{self.name}': gateway {gateway} is not on {interface.network}")
        return interface, gateway


@dataclasses.dataclass(frozen=True)
class RubricItem:
    """A manual item: something no machine can judge (assembling a PC, talking to a user...),
    which the examiner marks by hand (points and a comment) and ``grade`` merges."""

    id: str
    competency: str
    points: float
    title: dict[str, str]
    guide: dict[str, str]  # what the examiner looks for

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("fr") or self.id


RUBRIC_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclasses.dataclass(frozen=True)
class Lab:
    id: str
    path: Path
    title: dict[str, str]
    summary: dict[str, str]
    instructions: dict[str, str]  # what the trainee is asked to do, with {parameter} placeholders
    competencies: tuple[str, ...]
    mastery_threshold: float
    check_timeout: float
    mgmt_network: ipaddress.IPv4Network
    mgmt_grader: str  # address the grader uses on the management network
    hosts: dict[str, HostSpec]
    switches: tuple[str, ...]
    links: tuple[LinkSpec, ...]
    settings: dict[str, Any]  # the [params] table, read by the lab's params.py
    hints: dict[str, dict[str, str]]  # check name -> {lang: hint}
    rubric: tuple[RubricItem, ...] = ()  # manual items, marked by the examiner
    packages: tuple[str, ...] = ()  # Debian packages the lab's virtual hosts need beyond the base image
    # packages (of `packages` or the base image) whose .deb the image keeps in /var/cache/apt/archives:
    # a trainee reinstalls them without a network (a file of the package corrupted on purpose)
    cached_debs: tuple[str, ...] = ()
    # check name -> {lang: title}: what reports show instead of the check's id, with {parameter} placeholders
    titles: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    probe_ports: tuple[ProbePortSpec, ...] = ()  # grader-owned probe ports on segments
    radios: tuple[RadioSpec, ...] = ()  # radio VMs holding the wireless hosts

    def radio_hosts(self, radio: str) -> list[HostSpec]:
        """The wireless hosts of radio VM ``radio``, in the lab file's order."""
        return [host for host in self.hosts.values() if host.radio == radio]

    @property
    def checks_path(self) -> Path:
        return self.path.parent.parent / "checks" / self.id

    @property
    def deploy_file(self) -> Path:
        return self.path / "deploy.py"

    @property
    def solution_file(self) -> Path:
        return self.path / "solution.py"

    def sample_file(self, name: str) -> Path:
        path = self.path / "samples" / f"{name}.py"
        if not path.is_file():
            known = sorted(p.stem for p in (self.path / "samples").glob("*.py"))
            raise UserError(f"lab {self.id}: no sample '{name}' (known: {', '.join(known) or 'none'})")
        return path

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("fr") or self.id

    def links_of(self, host: str) -> list[LinkSpec]:
        return [link for link in self.links if link.host == host]


def read_toml(file: Path) -> dict[str, Any]:
    """A lab's TOML file (its lab file, faults, catalogue): one line naming it when it is not TOML."""
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{file}: not valid TOML: {exc}") from None


class _Table:
    """A TOML table being read: remembers where it is, rejects unknown keys with a suggestion."""

    def __init__(self, data: Any, where: str, file: Path):
        if not isinstance(data, dict):
            raise UserError(f"{file}: {where} must be a table")
        self.data, self.where, self.file = data, where, file
        self.used: set[str] = set()

    def fail(self, key: str, message: str) -> UserError:
        return UserError(f"{self.file}: {self.where}{'.' if self.where else ''}{key}: {message}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                close = difflib.get_close_matches(key, [k for k in self.data if k not in self.used], n=1)
                raise self.fail(key, "missing" + (f" (did you mean '{key}' where you wrote '{close[0]}'?)" if close else ""))
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            shown = str(value).lower() if isinstance(value, bool) else repr(value)  # as TOML writes it
            raise self.fail(key, f"expected {names}, found {shown}")
        return value

    def done(self, free: bool = False) -> None:
        if free:
            return
        for key in self.data:
            if key not in self.used:
                close = difflib.get_close_matches(key, sorted(self.used), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise self.fail(key, f"unknown key{hint}")


def _texts(table: _Table, key: str, required: bool = True) -> dict[str, str]:
    value = table.get(key, dict, default=... if required else {})
    if not all(isinstance(v, str) for v in value.values()):
        raise table.fail(key, "every translation must be a string")
    if required and "fr" not in value:
        raise table.fail(key, "needs at least a French text (fr)")
    return dict(value)


def find_lab(name: str) -> Path:
    """A lab's folder from its id (``ip-plan``) or a path to the folder or its lab.toml."""
    candidate = Path(name)
    if candidate.name == "lab.toml":
        candidate = candidate.parent
    if candidate.is_dir() and (candidate / "lab.toml").is_file():
        return candidate.resolve()
    folder = labs_dir() / name
    if LAB_ID_RE.match(name) and (folder / "lab.toml").is_file():
        return folder
    known = ", ".join(available_labs()) or "none"
    raise UserError(f"unknown lab '{name}' (known labs: {known})")


def available_labs() -> list[str]:
    root = labs_dir()
    return sorted(p.parent.name for p in root.glob("*/lab.toml")) if root.is_dir() else []


def load_lab(name: str) -> Lab:
    folder = find_lab(name)
    file = folder / "lab.toml"
    raw = read_toml(file)
    top = _Table(raw, "", file)

    lab = _Table(top.get("lab", dict), "lab", file)
    lab_id = lab.get("id", str)
    if not LAB_ID_RE.match(lab_id):
        raise lab.fail("id", f"'{lab_id}' must be lower-case letters, digits and dashes")
    if lab_id != folder.name:
        raise lab.fail("id", f"'{lab_id}' differs from the folder name '{folder.name}'")
    title = _texts(lab, "title")
    summary = _texts(lab, "summary", required=False)
    instructions = _texts(lab, "instructions", required=False)
    competencies = lab.get("competencies", list)
    from .referential import load as load_referential

    referential = load_referential()
    codes = []
    for code in competencies:
        if not isinstance(code, str):
            raise lab.fail("competencies", f"{code!r} must be a string such as \"030\"")
        try:
            codes.append(referential.competency(code).code)
        except UserError as exc:
            raise lab.fail("competencies", str(exc)) from None
    threshold = lab.get("mastery_threshold", (int, float), 0.7)
    if not 0 < threshold <= 1:
        raise lab.fail("mastery_threshold", f"{threshold} must be in (0, 1]")
    check_timeout = lab.get("check_timeout", (int, float), 30)
    if check_timeout <= 0:
        raise lab.fail("check_timeout", "must be positive")
    packages = lab.get("packages", list, [])
    for package in packages:
        if not isinstance(package, str) or not PACKAGE_RE.match(package):
            raise lab.fail("packages", f"{package!r} is not a Debian package name")
    cached_debs = lab.get("cached_debs", list, [])
    for package in cached_debs:
        if not isinstance(package, str) or not PACKAGE_RE.match(package):
            raise lab.fail("cached_debs", f"{package!r} is not a Debian package name")
    lab.done()

    mgmt = _Table(top.get("management", dict), "management", file)
    try:
        network = ipaddress.IPv4Network(mgmt.get("network", str))
    except ValueError as exc:
        raise mgmt.fail("network", str(exc)) from None
    try:
        grader = str(ipaddress.IPv4Address(mgmt.get("grader", str)))
    except ValueError as exc:
        raise mgmt.fail("grader", str(exc)) from None
    if ipaddress.IPv4Address(grader) not in network:
        raise mgmt.fail("grader", f"{grader} is not in {network}")
    mgmt.done()

    switches = []
    for i, item in enumerate(top.get("switches", list, [])):
        table = _Table(item, f"switches[{i}]", file)
        switch_name = table.get("name", str)
        if not NAME_RE.match(switch_name):
            raise table.fail("name", f"'{switch_name}' must be 1-10 lower-case letters or digits")
        if switch_name in switches:
            raise table.fail("name", f"switch '{switch_name}' declared twice")
        table.done()
        switches.append(switch_name)

    seen_mgmt: set[str] = {grader}
    radios: list[RadioSpec] = []
    for i, item in enumerate(top.get("radios", list, [])):
        table = _Table(item, f"radios[{i}]", file)
        radio = RadioSpec(table.get("name", str), table.get("mgmt", str), table.get("memory", int, 256))
        table.done()
        if not NAME_RE.match(radio.name):
            raise table.fail("name", f"'{radio.name}' must be 1-10 lower-case letters or digits")
        if radio.name in switches or any(other.name == radio.name for other in radios):
            raise table.fail("name", f"'{radio.name}' is declared twice")
        try:
            if ipaddress.IPv4Address(radio.mgmt) not in network:
                raise table.fail("mgmt", f"{radio.mgmt} is not in the management network {network}")
        except ValueError:
            raise table.fail("mgmt", f"'{radio.mgmt}' is not an IPv4 address") from None
        if radio.mgmt in seen_mgmt:
            raise table.fail("mgmt", f"{radio.mgmt} is already used")
        seen_mgmt.add(radio.mgmt)
        if not 128 <= radio.memory <= 2048:
            raise table.fail("memory", f"{radio.memory} MiB: a radio VM takes 128 to 2048")
        radios.append(radio)

    host_items: list[tuple[str, str, str, str | None, int]] = []
    for i, item in enumerate(top.get("hosts", list)):
        table = _Table(item, f"hosts[{i}]", file)
        host_name = table.get("name", str)
        if not NAME_RE.match(host_name):
            raise table.fail("name", f"'{host_name}' must be 1-10 lower-case letters or digits")
        if any(host_name == h[0] for h in host_items) or host_name in switches:
            raise table.fail("name", f"'{host_name}' is declared twice")
        role = table.get("role", str)
        if role not in ROLES:
            raise table.fail("role", f"'{role}' is not one of {', '.join(ROLES)}")
        address = table.get("mgmt", str)
        try:
            if ipaddress.IPv4Address(address) not in network:
                raise table.fail("mgmt", f"{address} is not in the management network {network}")
        except ValueError:
            raise table.fail("mgmt", f"'{address}' is not an IPv4 address") from None
        if address in seen_mgmt:
            raise table.fail("mgmt", f"{address} is already used")
        seen_mgmt.add(address)
        radio_name = table.get("radio", str, None)
        if radio_name is not None and not any(r.name == radio_name for r in radios):
            raise table.fail("radio", f"unknown radio VM '{radio_name}' (declare it in [[radios]])")
        disk = table.get("disk", int, DEFAULT_DISK_MIB)
        if not 16 <= disk <= 16384:
            raise table.fail("disk", f"{disk} MiB: a host's disk takes 16 to 16384 MiB")
        table.done()
        if any(host_name == r.name for r in radios):
            raise table.fail("name", f"'{host_name}' is declared twice")
        host_items.append((host_name, role, address, radio_name, disk))
    if not host_items:
        raise top.fail("hosts", "a lab needs at least one host")
    for radio in radios:
        held = sum(1 for h in host_items if h[3] == radio.name)
        if not 1 <= held <= MAX_RADIO_HOSTS:
            raise top.fail("radios", f"radio VM '{radio.name}' holds {held} hosts: give it 1 to {MAX_RADIO_HOSTS} "
                                     f"(hosts with radio = \"{radio.name}\")")

    links = []
    host_names = {h[0] for h in host_items}
    for i, item in enumerate(top.get("links", list, [])):
        table = _Table(item, f"links[{i}]", file)
        link = LinkSpec(table.get("host", str), table.get("iface", str), table.get("switch", str))
        table.done()
        if link.host not in host_names:
            raise table.fail("host", f"unknown host '{link.host}'")
        if link.switch not in switches:
            raise table.fail("switch", f"unknown switch '{link.switch}'")
        if not IFACE_RE.match(link.iface) or link.iface == "mgmt0":
            raise table.fail("iface", f"'{link.iface}' is not a valid interface name (mgmt0 is reserved)")
        if any(other.host == link.host and other.iface == link.iface for other in links):
            raise table.fail("iface", f"{link.host} has two links on {link.iface}")
        links.append(link)

    probe_ports: list[ProbePortSpec] = []
    for i, item in enumerate(top.get("probe_ports", list, [])):
        table = _Table(item, f"probe_ports[{i}]", file)
        probe = ProbePortSpec(table.get("name", str), table.get("switch", str),
                              table.get("address", str, None), table.get("gateway", str, None))
        table.done()
        for key, value in (("address", probe.address), ("gateway", probe.gateway)):
            if value is not None and not PLACEHOLDER_RE.search(value):
                try:
                    (ipaddress.IPv4Interface if key == "address" else ipaddress.IPv4Address)(value)
                except ValueError:
                    raise table.fail(key, f"{value!r} is not an IPv4 {'address with its prefix' if key == 'address' else 'address'}"
                                     f" nor a {{{{ expected.x }}}} placeholder") from None
        if probe.gateway is not None and probe.address is None:
            raise table.fail("gateway", "a gateway needs an address")
        if not NAME_RE.match(probe.name):
            raise table.fail("name", f"'{probe.name}' must be 1-10 lower-case letters or digits")
        if any(other.name == probe.name for other in probe_ports):
            raise table.fail("name", f"probe port '{probe.name}' declared twice")
        if probe.switch not in switches:
            raise table.fail("switch", f"unknown switch '{probe.switch}'")
        probe_ports.append(probe)

    hosts = {
        name: HostSpec(name, role, address, tuple(l.iface for l in links if l.host == name), radio, disk)
        for name, role, address, radio, disk in host_items
    }
    settings = top.get("params", dict, {})
    rubric = read_rubric_items(top.get("rubric", list, []), "rubric", file)
    hints_raw = top.get("hints", dict, {})
    hints = {}
    for check, texts in hints_raw.items():
        hints[check] = _texts(_Table(hints_raw, "hints", file), check)
    titles = _titles(top.get("titles", dict, {}), file)
    top.done()

    return Lab(
        id=lab_id,
        path=folder,
        title=title,
        summary=summary,
        instructions=instructions,
        competencies=tuple(codes),
        mastery_threshold=float(threshold),
        check_timeout=float(check_timeout),
        mgmt_network=network,
        mgmt_grader=grader,
        hosts=hosts,
        switches=tuple(switches),
        links=tuple(links),
        settings=settings,
        hints=hints,
        rubric=rubric,
        packages=tuple(sorted(set(packages))),
        cached_debs=tuple(sorted(set(cached_debs))),
        titles=titles,
        probe_ports=tuple(probe_ports),
        radios=tuple(radios),
    )


CHECK_NAME_RE = re.compile(r"^test\w*$")


def _titles(raw: dict[str, Any], file: Path) -> dict[str, dict[str, str]]:
    """``[titles]``: check name -> {lang: title}, such as
    ``test_address = { fr = "Adresse IPv4 de eth0 — {pc}", en = "IPv4 address of eth0 — {pc}" }``.
    A ``{name}`` placeholder is a parametrize argument of the check (``{n}``: the case's number,
    1 for the first value); that each one is a parameter of its check, and that the check exists,
    is verified by the plugin when pytest collects the checks."""
    from .i18n import LANGS, title_placeholders

    table = _Table(raw, "titles", file)
    titles = {}
    for check in raw:
        if not CHECK_NAME_RE.match(check):
            raise table.fail(check, "is not a check's name (a test function: test_...)")
        texts = _texts(table, check)
        for lang, text in texts.items():
            if lang not in LANGS:
                raise table.fail(check, f"unknown language '{lang}' (languages: {', '.join(LANGS)})")
            if not text.strip():
                raise table.fail(check, f"empty {lang} title")
            try:
                title_placeholders(text)
            except ValueError as exc:
                raise table.fail(check, f"{lang} title {text!r}: {exc}") from None
        titles[check] = texts
    return titles


def _new_id(table: _Table, pattern: re.Pattern, rule: str, taken: set[str]) -> str:
    """A table's ``id``: matching ``pattern`` (else a one-line error saying ``rule``), not taken yet."""
    item_id = table.get("id", str)
    if not pattern.match(item_id):
        raise table.fail("id", f"'{item_id}' must be {rule}")
    if item_id in taken:
        raise table.fail("id", f"'{item_id}' is declared twice")
    return item_id


def read_rubric_items(items: list, where: str, file: Path) -> tuple[RubricItem, ...]:
    """``[[rubric]]`` tables (in a lab file or a rubric file): id, competency, points, title, guide."""
    from .referential import load as load_referential

    referential = load_referential()
    out: list[RubricItem] = []
    for i, item in enumerate(items):
        table = _Table(item, f"{where}[{i}]", file)
        item_id = _new_id(table, RUBRIC_ID_RE, "lower-case letters, digits and '_'", {other.id for other in out})
        try:
            code = referential.competency(table.get("competency", str)).code
        except UserError as exc:
            raise table.fail("competency", str(exc)) from None
        points = table.get("points", (int, float))
        if points <= 0:
            raise table.fail("points", "must be positive")
        title = _texts(table, "title")
        guide = _texts(table, "guide", required=False)
        table.done()
        out.append(RubricItem(item_id, code, float(points), title, guide))
    return tuple(out)


# -- faults: what a lab's self-test applies to its solved state -----------------------------------

FAULT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
PLACEHOLDER_RE = re.compile(r"\{\{\s*(params|expected)((?:\.[A-Za-z0-9_-]+)+)\s*(\|\s*quote\s*)?\}\}")


def placeholder_value(values: dict[str, Any], match: re.Match) -> Any:
    """The value a ``{{ params.x.y }}`` placeholder (a PLACEHOLDER_RE match) names in ``values``
    (``{"params": ..., "expected": ...}``); KeyError when there is none."""
    found: Any = values.get(match.group(1), {})
    for key in match.group(2).strip(".").split("."):
        if isinstance(found, list) and key.isdigit() and int(key) < len(found):
            found = found[int(key)]
        elif isinstance(found, dict) and key in found:
            found = found[key]
        else:
            raise KeyError(f"{match.group(1)}{match.group(2)}")
    return found


def render_placeholders(text: str, values: dict[str, Any], where: str) -> str:
    """``text`` with its ``{{ params.x }}`` / ``{{ expected.x | quote }}`` placeholders replaced by
    the trainee's values (``| quote``: quoted for the shell); ``where`` names it in the error."""
    import shlex

    def value(match: re.Match) -> str:
        try:
            found = placeholder_value(values, match)
        except KeyError:
            raise UserError(f"{where}: no value {match.group(1)}{match.group(2)}") from None
        return shlex.quote(str(found)) if match.group(3) else str(found)

    return PLACEHOLDER_RE.sub(value, text)


@dataclasses.dataclass(frozen=True)
class Case:
    """One case of a lab's self-test (``labs/<id>/faults.toml``): a *fault* (a trainee's mistake,
    applied to the solved lab: exactly the checks in ``fails`` must fail, and only ``competency``
    lose points) or an *alternative* (another correct way to do the work: the maximum stays)."""

    kind: str  # "fault" or "alternative"
    id: str
    title: dict[str, str]
    hosts: tuple[str, ...]  # where ``run`` runs, in order (each restored to the solved state first)
    run: dict[str, str]  # host -> shell script (with {{ params.x }} / {{ expected.x | quote }})
    fails: frozenset[str] = frozenset()
    competencies: tuple[str, ...] = ()  # the only competencies allowed to lose points

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("fr") or self.id

    def script(self, host: str, values: dict[str, Any]) -> str:
        """The host's script with its placeholders replaced by the trainee's values."""
        return render_placeholders(self.run[host], values, f"{self.kind} {self.id}")


def load_cases(lab: Lab) -> tuple[Case, ...]:
    """The lab's faults and alternatives (none when it has no faults.toml)."""
    file = lab.path / "faults.toml"
    if not file.is_file():
        return ()
    raw = read_toml(file)
    top = _Table(raw, "", file)
    cases: list[Case] = []
    for kind, key in (("fault", "fault"), ("alternative", "alternative")):
        for i, item in enumerate(top.get(key, list, [])):
            table = _Table(item, f"{key}[{i}]", file)
            case_id = _new_id(table, FAULT_ID_RE, "lower-case letters, digits and '-'", {c.id for c in cases})
            title = _texts(table, "title")
            run = table.get("run", dict)
            for host, script in run.items():
                if host not in lab.hosts:
                    raise table.fail("run", f"unknown host '{host}' (hosts: {', '.join(lab.hosts)})")
                if not isinstance(script, str) or not script.strip():
                    raise table.fail("run", f"{host}: a shell script is needed")
            if not run:
                raise table.fail("run", "needs a script for at least one host")
            fails: list = []
            codes: tuple[str, ...] = ()
            if kind == "fault":
                fails = table.get("fails", list)
                if not fails or not all(isinstance(f, str) for f in fails):
                    raise table.fail("fails", "a fault names the checks it must fail (check ids, as in results.json)")
                given = table.get("competency", (str, list))
                codes = tuple([given] if isinstance(given, str) else given)
                for code in codes:
                    if code not in lab.competencies:
                        raise table.fail("competency", f"{code!r} is not one of the lab's ({', '.join(lab.competencies)})")
            table.done()
            cases.append(Case(kind, case_id, title, tuple(run), dict(run), frozenset(fails), codes))
    top.done()
    return tuple(cases)
