"""nftables, read only: the ruleset in force, the ruleset a saved file gives (loaded in a scratch
network namespace, never on the host's own), and whether a file is loaded at boot, each way a
Debian technician does it.

* :class:`NftRuleset` -> :class:`Ruleset`: ``nft list ruleset`` (text, counters' values left out)
  and its JSON, with :meth:`Ruleset.filters` ("does a chain of this hook drop what it does not
  accept?").
* :class:`SavedRuleset` -> :class:`SavedRules`: ``nft -f FILE`` in ``unshare -n`` (interfaces of
  the host's names created there as veths, for rules that name them by index), then its listing.
* :class:`NftablesAtBoot` -> :class:`FirewallBoot`: the nftables service started at boot (a
  virtual lab host's boot services, systemd, sysvinit rc links: it loads /etc/nftables.conf), or
  ifupdown loading a file (``pre-up``/``up`` ``nft -f FILE`` of an interface brought up at boot,
  or an executable hook in /etc/network/if-pre-up.d or if-up.d that run-parts runs).
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex

from .base import Probe, quote_line
from .system import BootStart, ServiceAtBoot, probe_parser

DEBIAN_RULES = "/etc/nftables.conf"  # what Debian's nftables service loads (nftables.service)
_COUNTER_RE = re.compile(r"\b(counter|quota)( packets \d+ bytes \d+| \d+ bytes used \d+ bytes)?")
_JSON_MARK = "@@tspcr-nft-json"
# `nft -f FILE` / `nft --file FILE` / `/usr/sbin/nft -f FILE` in a command or a script line
_LOADS_RE = re.compile(r"(?:^|[\s;&|(])(?:/usr)?(?:/s?bin/)?nft\s+(?:-[a-zA-Z]+\s+)*?(?:-f|--file)[\s=]+(\S+)")
_RUN_PARTS_NAME = re.compile(r"^[A-Za-z0-9_-]+$")  # the names run-parts runs (no dot: "fw.sh" is skipped)


def ruleset_lines(text: str) -> list[str]:
    """``nft list ruleset``'s lines, stripped, counters' values left out (they count traffic)."""
    return [_COUNTER_RE.sub(r"\1", line.strip()) for line in text.splitlines() if line.strip()]


@dataclasses.dataclass(frozen=True)
class Ruleset:
    lines: tuple[str, ...]
    data: dict

    def filters(self, hook: str) -> bool:
        """A chain of ``hook`` (forward, input...) drops what it does not accept: policy drop, or
        a drop or reject rule in it."""
        items = self.data.get("nftables", [])
        chains = [i["chain"] for i in items if "chain" in i and i["chain"].get("hook") == hook]
        if any(c.get("policy") == "drop" for c in chains):
            return True
        names = {(c["family"], c["table"], c["name"]) for c in chains}
        for item in items:
            rule = item.get("rule")
            if rule and (rule["family"], rule["table"], rule["chain"]) in names:
                if any("drop" in e or "reject" in e for e in rule.get("expr", [])):
                    return True
        return False

    @property
    def blocks_anything(self) -> bool:
        """Some chain drops or rejects something (a policy or a rule)."""
        words = " ".join(self.lines).replace(";", " ").split()
        return "drop" in words or "reject" in words

    def compare(self, other: "Ruleset") -> tuple[list[str], list[str]]:
        """(lines only in self, lines only in ``other``)."""
        return ([line for line in self.lines if line not in other.lines],
                [line for line in other.lines if line not in self.lines])


def _ruleset(output: str) -> Ruleset:
    text, sep, as_json = output.partition(_JSON_MARK)
    if not sep:
        raise ValueError("no JSON listing after the text one")
    return Ruleset(tuple(ruleset_lines(text)), json.loads(as_json or "{}"))


class NftRuleset(Probe):
    """The ruleset in force -> :class:`Ruleset` (``nft list ruleset``, text and JSON)."""

    def command(self) -> str:
        return f"nft list ruleset && echo {_JSON_MARK} && nft -j list ruleset"

    @probe_parser
    def process(self, output: str) -> Ruleset:
        return _ruleset(output)


@dataclasses.dataclass(frozen=True)
class SavedRules:
    path: str
    exists: bool
    error: str = ""  # what nft said when the file does not load
    ruleset: Ruleset | None = None

    @property
    def loads(self) -> bool:
        return self.exists and self.ruleset is not None


class SavedRuleset(Probe):
    """What ``nft -f PATH`` gives -> :class:`SavedRules`, loaded in a network namespace of its
    own (``unshare -n``: the host's ruleset is never touched), with veths named ``interfaces``
    there (rules naming an interface by index need it to exist)."""

    ok_codes = (0, 3, 4)

    def __init__(self, path: str = DEBIAN_RULES, interfaces: tuple[str, ...] = ()):
        self.path, self.interfaces = path, tuple(interfaces)

    def command(self) -> str:
        links = "".join(f"ip link add {shlex.quote(name)} type veth peer name tspcr-peer{n}; "
                        f"ip link set {shlex.quote(name)} up; " for n, name in enumerate(self.interfaces))
        script = (f"ip link set lo up; {links}if ! said=$(nft -f {shlex.quote(self.path)} 2>&1); then "
                  f"printf '%s\\n' \"$said\" >&2; exit 4; fi; nft list ruleset; echo {_JSON_MARK}; nft -j list ruleset")
        return quote_line("test -r %s || exit 3; exec unshare -n sh -c %s", self.path, script)

    def evaluate(self, result) -> SavedRules:
        if result.rc == 3:
            return SavedRules(self.path, False)
        if result.rc == 4:
            return SavedRules(self.path, True, (result.stderr or "").strip()[-300:] or "nft -f failed")
        if result.rc != 0:
            return self.failed(result)  # unshare refused: an error of the grader's
        return SavedRules(self.path, True, ruleset=self.process(result.stdout))

    @probe_parser
    def process(self, output: str) -> Ruleset:
        return _ruleset(output)


@dataclasses.dataclass(frozen=True)
class FirewallBoot:
    """How a host loads its rules at boot: ``loaders`` maps each file loaded to what loads it."""

    service: BootStart
    loaders: dict[str, list[str]]

    @property
    def enabled(self) -> bool:
        return bool(self.loaders)

    def loads(self, path: str = DEBIAN_RULES) -> bool:
        return path in self.loaders

    def file(self) -> str:
        """The file whose rules the host has after a boot: /etc/nftables.conf if it is loaded (or
        when nothing is), else the one ifupdown loads (the last of them, when several are)."""
        if self.loads(DEBIAN_RULES) or not self.loaders:
            return DEBIAN_RULES
        return list(self.loaders)[-1]

    def evidence(self) -> str:
        ways = "; ".join(f"{path}: {', '.join(by)}" for path, by in self.loaders.items())
        return ways or f"nftables service: {self.service.evidence()}; no ifupdown line or hook runs nft -f"


def loaded_files(text: str) -> list[str]:
    """The files ``nft -f FILE`` lines of a command or script load (literal paths only)."""
    found = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        for match in _LOADS_RE.finditer(line):
            path = match.group(1).strip("'\"")
            if path.startswith("/") and path not in found:
                found.append(path)
    return found


class NftablesAtBoot(Probe):
    """Which rules files are loaded at boot -> :class:`FirewallBoot` (see the module)."""

    _MARK = "@@tspcr-boot "

    def __init__(self):
        self._service = ServiceAtBoot("nftables")

    def command(self) -> str:
        mark = self._MARK
        return (f"echo '{mark}service'; {self._service.command()}; "
                f"for i in $(ifquery --list --allow=auto 2>/dev/null; ifquery --list --allow=hotplug 2>/dev/null); do "
                f"echo \"{mark}iface $i\"; ifquery -- \"$i\" 2>/dev/null; done; "
                f"for d in /etc/network/if-pre-up.d /etc/network/if-up.d; do for f in \"$d\"/*; do "
                f"if test -f \"$f\" && test -x \"$f\"; then echo \"{mark}hook $f\"; cat -- \"$f\"; fi; done; done; true")

    @probe_parser
    def process(self, output: str) -> FirewallBoot:
        sections: list[tuple[str, list[str]]] = []
        for line in output.splitlines():
            if line.startswith(self._MARK):
                sections.append((line[len(self._MARK):], []))
            elif sections:
                sections[-1][1].append(line)
        if not sections or sections[0][0] != "service":
            raise ValueError("no service section")
        service = self._service.process("\n".join(sections[0][1]))
        loaders: dict[str, list[str]] = {}
        if service.enabled:
            loaders.setdefault(DEBIAN_RULES, []).append(f"nftables service ({service.evidence()})")
        for head, lines in sections[1:]:
            kind, _, name = head.partition(" ")
            if kind == "iface":
                commands = [value for key, _, value in (line.partition(":") for line in lines)
                            if key.strip() in ("pre-up", "up", "post-up")]
                for path in loaded_files("\n".join(commands)):
                    loaders.setdefault(path, []).append(f"ifupdown, interface {name}")
            elif kind == "hook" and _RUN_PARTS_NAME.match(name.rsplit("/", 1)[-1]):
                for path in loaded_files("\n".join(lines)):
                    loaders.setdefault(path, []).append(f"ifupdown hook {name}")
        return FirewallBoot(service, loaders)

