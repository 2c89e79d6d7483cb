"""Probes against outputs recorded on a real Debian 12 host (see tests/unit/recorded/README.txt)."""

from __future__ import annotations

import os
import pathlib
import shlex
import subprocess

import pytest

from tspcr_lab.errors import CheckFailed, ProbeError, UnreadableFile
from tspcr_lab.host import Host
from tspcr_lab.probes import (
    Address,
    Addresses,
    FileContent,
    FileInfo,
    FileStat,
    Group,
    Groups,
    Hostname,
    IfupdownAuto,
    IfupdownConfig,
    InterfaceOptions,
    Link,
    Links,
    Listening,
    ListeningSockets,
    Neighbor,
    Neighbors,
    Ping,
    PingResult,
    Resolve,
    Resolver,
    ResolverConfig,
    Route,
    Routes,
    User,
    Users,
    default_gateways,
    ipv4_addresses,
    parse_resolv_conf,
)
from tspcr_lab.transport.base import CommandResult, Transport

from .recorded_runs import Recorded, fake, parse_error

REC = Recorded()
recorded, replay = REC.result, REC.replay


AWKWARD_PATH = "/srv/my dir/a;b $(touch x) 'q'.txt"


def shell_words(command: str) -> list[str]:
    """Split like sh does, with ``;`` ``||`` ``&&`` as separate tokens."""
    return list(shlex.shlex(command, posix=True, punctuation_chars=True))


# --- ip addr ------------------------------------------------------------------------------------


def test_addresses_all():
    addresses = replay(Addresses(), "ip-addr")
    assert Address("lo", "inet", "127.0.0.1", 8, "host") in addresses
    assert [a.cidr for a in addresses if a.iface == "veth0"] == [
        "10.20.0.2/24",
        "10.20.0.3/24",
        "fd20::2/64",
        "fe80::ff:fe00:a02/64",
    ]
    # An interface that is down still shows its address.
    assert Address("veth2", "inet", "172.16.5.1", 28, "global") in addresses
    assert not [a for a in addresses if a.iface == "veth3"]


def test_addresses_of_one_interface():
    addresses = replay(Addresses("veth0"), "ip-addr-veth0")
    assert {a.iface for a in addresses} == {"veth0"}
    assert addresses[-1] == Address("veth0", "inet6", "fe80::ff:fe00:a02", 64, "link")


def test_ipv4_addresses_helper():
    addresses = replay(Addresses(), "ip-addr")
    assert [a.cidr for a in ipv4_addresses(addresses, "veth0")] == ["10.20.0.2/24", "10.20.0.3/24"]
    assert [a.cidr for a in ipv4_addresses(addresses)] == [
        "127.0.0.1/8",
        "10.20.0.2/24",
        "10.20.0.3/24",
        "172.16.5.1/28",
    ]
    assert ipv4_addresses(addresses, "nosuch0") == []


def test_addresses_missing_interface_is_empty():
    assert replay(Addresses("nosuch0"), "ip-addr-missing") == []


def test_addresses_quoting():
    assert Addresses("eth0; reboot").command() == "ip -j addr show dev 'eth0; reboot'"
    assert shlex.split(Addresses("a b").command())[-1] == "a b"


def test_addresses_other_failures_are_probe_errors():
    # "does not exist" only means "no such interface" when one was asked for.
    parse_error(Addresses(), "", rc=1, stderr='Device "x" does not exist.')
    parse_error(Addresses("eth0"), "", rc=255, stderr="Error: something else")
    parse_error(Addresses("eth0"), "", rc=127, stderr="sh: 1: ip: not found")


@pytest.mark.parametrize(
    "output",
    [
        "",
        "not json",
        '{"ifname": "lo"}',
        '[{"addr_info": []}]',
        '[{"ifname": "lo", "addr_info": [{}]}]',
        "[1]",
    ],
)
def test_addresses_bad_output(output):
    message = parse_error(Addresses(), output)
    assert "cannot parse" in message


# --- ip link ------------------------------------------------------------------------------------


def test_links():
    links = replay(Links(), "ip-link")
    assert list(links) == ["lo", "veth0", "veth3", "veth2"]
    assert links["veth0"] == Link("veth0", "02:00:00:00:0a:02", "UP", True, 1450)
    assert links["veth2"] == Link("veth2", "f6:72:f4:47:cd:3f", "DOWN", False, 1500)
    assert links["lo"].state == "UNKNOWN" and links["lo"].up


def test_links_bad_output():
    parse_error(Links(), "[{]")
    parse_error(Links(), '[{"ifname": "eth0"}]')  # no mtu


# --- ip route -----------------------------------------------------------------------------------


def test_routes_ipv4():
    routes = replay(Routes(), "ip-route")
    assert routes == [
        Route("default", "10.20.0.1", "veth0", "boot", "global"),
        Route("10.20.0.0/24", None, "veth0", "kernel", "link"),
        Route("10.30.0.0/16", "10.20.0.1", "veth0", "static", "global"),
        Route("10.99.0.0/16", None, None, "boot", "global", type="blackhole"),
    ]
    assert default_gateways(routes) == ["10.20.0.1"]


def test_routes_ipv6():
    routes = replay(Routes(6), "ip-route6")
    assert Routes(6).command() == "ip -j -6 route show"
    assert default_gateways(routes) == ["fd20::1"]
    assert [r.dst for r in routes] == ["fd20::/64", "fe80::/64", "default"]


def test_routes_family_is_checked():
    with pytest.raises(ValueError):
        Routes(5)


def test_routes_empty_table_and_bad_output():
    assert fake(Routes(), "[]\n") == []
    assert default_gateways([]) == []
    parse_error(Routes(), "")
    parse_error(Routes(), '[{"gateway": "10.0.0.1"}]')  # no dst


# --- ip neigh -----------------------------------------------------------------------------------


def test_neighbors():
    neighbors = replay(Neighbors(), "ip-neigh")
    assert Neighbor("10.20.0.1", "veth0", "02:00:00:00:0a:01", ["DELAY"]) in neighbors
    assert Neighbor("10.20.0.9", "veth0", None, ["INCOMPLETE"]) in neighbors
    assert {n.address for n in neighbors} == {"10.20.0.1", "10.20.0.9", "fe80::ff:fe00:a01", "fd20::1"}


def test_neighbors_filtered_output_has_no_dev_key():
    probe = Neighbors("10.20.0.1", "veth0")
    assert probe.command() == "ip -j neigh show to 10.20.0.1 dev veth0"
    assert '"dev"' not in recorded("ip-neigh-filtered").stdout
    expected = Neighbor("10.20.0.1", "veth0", "02:00:00:00:0a:01", ["DELAY"])
    assert replay(probe, "ip-neigh-filtered") == [expected]


def test_neighbors_missing_interface_is_empty():
    assert replay(Neighbors(dev="nosuch0"), "ip-neigh-missing") == []


def test_neighbors_quoting_and_bad_output():
    assert Neighbors("1.2.3.4;id").command() == "ip -j neigh show to '1.2.3.4;id'"
    assert Neighbors(dev="a b").command() == "ip -j neigh show dev 'a b'"
    parse_error(Neighbors(), "[{}]")


# --- resolv.conf --------------------------------------------------------------------------------


def test_resolver():
    config = replay(Resolver(), "resolver")
    assert Resolver().command() == (
        "if test -f /etc/resolv.conf; then cat -- /etc/resolv.conf; elif test -e /etc/resolv.conf;"
        " then LC_ALL=C stat -L -c %F -- /etc/resolv.conf; (exit 4); else (exit 3); fi"
    )
    # " nameserver 10.9.9.9" (leading blank) and "not-an-address" are ignored, as glibc does.
    assert config == ResolverConfig(
        nameservers=["10.0.0.53", "9.9.9.9", "fe80::1%veth0", "10.0.0.54"],
        search=["lab.test", "corp.lab.test"],
        domain="corp.lab.test",
    )


def test_resolver_host_file():
    assert replay(Resolver(), "resolver-host") == ResolverConfig(["10.255.255.53"], [], None)


def test_resolver_missing_file_is_empty():
    probe = Resolver("/tmp/probe-rec.pHYz/files/missing")
    assert replay(probe, "resolver-missing") == ResolverConfig([], [], None)


def test_resolver_unreadable_file_is_the_trainees_failure():
    # A resolv.conf the trainee made a directory, or unreadable: a finding, not an error.
    with pytest.raises(UnreadableFile, match="is not a regular file: it is a directory") as info:
        fake(Resolver(), "directory\n", rc=4)
    assert isinstance(info.value, CheckFailed) and not isinstance(info.value, ProbeError)
    with pytest.raises(UnreadableFile, match="permission denied"):
        fake(Resolver(), "", rc=1, stderr="cat: /etc/resolv.conf: Permission denied")
    parse_error(Resolver(), "", rc=1, stderr="cat: /etc/resolv.conf: Input/output error")


def test_parse_resolv_conf_rules():
    text = "search a.test\ndomain b.test\nnameserver 10.0.0.1;comment\n#nameserver 10.0.0.2\nnameserver\n"
    assert parse_resolv_conf(text) == ResolverConfig(["10.0.0.1"], ["b.test"], "b.test")
    assert parse_resolv_conf("") == ResolverConfig([], [], None)


# --- ifupdown -----------------------------------------------------------------------------------


def test_ifquery_cidr_address_is_split_by_ifquery():
    # inputs/interfaces says "address 10.0.0.5/24": ifquery prints address and netmask apart.
    options = replay(IfupdownConfig("eth0"), "ifquery-eth0")
    assert options == {
        "address": "10.0.0.5",
        "netmask": "255.255.255.0",
        "broadcast": "10.0.0.255",
        "gateway": "10.0.0.1",
        "dns-nameservers": "10.0.0.53 9.9.9.9",
        "dns-search": "lab.test",
    }
    assert options.cidr == "10.0.0.5/24"


def test_ifquery_netmask_and_post_up():
    options = replay(IfupdownConfig("eth1"), "ifquery-eth1")
    assert options["netmask"] == "255.255.255.0"
    assert options["up"] == "echo hello"  # post-up is shown as "up"
    assert options.cidr == "192.168.10.7/24"


def test_interface_options_cidr():
    assert InterfaceOptions([("address", "10.0.0.5"), ("netmask", "255.0.255.0")]).cidr == "10.0.0.5/255.0.255.0"
    assert InterfaceOptions([("address", "fd00::1"), ("netmask", "64")]).cidr == "fd00::1/64"
    assert InterfaceOptions([("address", "10.0.0.5")]).cidr == "10.0.0.5"


def test_ifquery_interface_without_options():
    options = replay(IfupdownConfig("eth3"), "ifquery-eth3")
    assert options == {} and options is not None
    assert options.cidr is None


def test_ifquery_inet_and_inet6_stanzas():
    options = replay(IfupdownConfig("eth4"), "ifquery-eth4")
    assert options["address"] == "10.4.0.1"
    assert options.getall("address") == ["10.4.0.1", "fd04::1"]
    assert options.getall("netmask") == ["255.255.0.0", "64"]
    assert options["preferred-lifetime"] == ""
    assert options.cidr == "10.4.0.1/16"


def test_ifquery_unknown_interface_is_none():
    assert replay(IfupdownConfig("eth9"), "ifquery-eth9") is None


def test_ifquery_broken_interfaces_file_is_probe_error():
    with pytest.raises(ProbeError, match="option with empty value"):
        replay(IfupdownConfig("eth0"), "ifquery-bad")


def test_ifquery_quoting_and_bad_output():
    assert IfupdownConfig("eth0; reboot").command() == "ifquery -- 'eth0; reboot'"
    parse_error(IfupdownConfig("eth0"), "address 10.0.0.1\n")
    parse_error(IfupdownConfig("eth0"), "", rc=127, stderr="sh: 1: ifquery: not found")


def test_ifupdown_auto():
    assert replay(IfupdownAuto(), "ifquery-list") == {
        "auto": ["lo", "eth0", "eth3", "eth4"],
        "hotplug": ["eth1", "eth2"],
    }
    assert replay(IfupdownAuto(), "ifquery-list-min") == {"auto": ["lo"], "hotplug": []}


def test_ifupdown_auto_bad_output():
    parse_error(IfupdownAuto(), "lo\neth0\n")
    parse_error(IfupdownAuto(), "", rc=1, stderr="ifquery: couldn't read interfaces file")


# --- ss -----------------------------------------------------------------------------------------


def test_listening_sockets():
    sockets = replay(ListeningSockets(), "ss")
    assert {(s.proto, s.address, s.port, s.iface) for s in sockets} == {
        ("udp", "127.0.0.53", 53, "lo"),
        ("udp", "0.0.0.0", 68, "veth0"),
        ("udp", "*", 5353, None),
        ("udp", "fd20::2", 123, None),
        ("tcp", "10.20.0.2", 8080, None),
        ("tcp", "0.0.0.0", 22, None),
        ("tcp", "127.0.0.1", 631, None),
        ("tcp", "127.0.0.53", 53, "lo"),
        ("tcp", "fe80::ff:fe00:a02", 9090, "veth0"),
        ("tcp", "::", 22, None),
        ("tcp", "*", 80, None),
        ("tcp", "::1", 25, None),
    }
    assert all(s.process is None for s in sockets)
    assert {s.port for s in sockets if s.wildcard} == {22, 68, 80, 5353}


def test_listening_sockets_with_processes():
    sockets = replay(ListeningSockets(processes=True), "ss-processes")
    assert ListeningSockets(processes=True).command() == "ss -Hlntup"
    assert Listening("tcp", "::1", 25, "python3") in sockets
    assert {s.process for s in sockets} == {"python3"}


def test_listening_sockets_bad_output():
    assert fake(ListeningSockets(), "") == []
    parse_error(ListeningSockets(), "tcp LISTEN 0 128\n")
    parse_error(ListeningSockets(), "tcp LISTEN 0 128 0.0.0.0:ssh 0.0.0.0:*\n")
    parse_error(ListeningSockets(), "tcp LISTEN 0 128 nocolon 0.0.0.0:*\n")


# --- ping ---------------------------------------------------------------------------------------


def test_ping_quoting():
    assert Ping("127.0.0.1").command() == "LC_ALL=C RES_OPTIONS='timeout:1 attempts:2' ping -c 1 -W 1 -n -- 127.0.0.1"
    assert Ping("a b;c", count=3, wait=2).command() == "LC_ALL=C RES_OPTIONS='timeout:1 attempts:2' ping -c 3 -W 2 -n -- 'a b;c'"
    assert shlex.split(Ping("-f").command())[-2:] == ["--", "-f"]


def test_ping_reachable():
    assert replay(Ping("127.0.0.1"), "ping-localhost") == PingResult(True, 1, 1, "127.0.0.1")
    assert replay(Ping("10.20.0.1", count=2), "ping-ok") == PingResult(True, 2, 2, "10.20.0.1")
    assert replay(Ping("fd20::1"), "ping6-ok") == PingResult(True, 1, 1, "fd20::1")


def test_ping_by_name_gives_the_resolved_address():
    assert replay(Ping("gw.lab.test", count=2), "ping-by-name") == PingResult(True, 2, 2, "10.20.0.1")


def test_ping_unreachable():
    assert replay(Ping("10.20.0.9"), "ping-unreachable") == PingResult(False, 1, 0, "10.20.0.9")
    # "+2 errors" in the statistics line, "Destination Host Unreachable" lines.
    assert replay(Ping("10.20.0.9", count=4), "ping-host-unreachable") == PingResult(False, 4, 0, "10.20.0.9")


@pytest.mark.parametrize(
    "name, text",
    [
        ("ping-unknown-name", "Name or service not known"),
        ("ping-dns-down", "Temporary failure in name resolution"),
    ],
)
def test_ping_name_resolution_failure(name, text):
    result = replay(Ping("nosuch-host.invalid"), name)
    assert not result.reachable
    assert result.resolved_address is None
    assert result.error == f"ping: nosuch-host.invalid: {text}"


def test_ping_without_route():
    result = replay(Ping("10.30.0.1"), "ping-no-route")
    assert not result.reachable and result.transmitted == 0
    assert result.error == "ping: connect: Network is unreachable"


def test_ping_other_failures_are_probe_errors():
    usage = "ping: invalid option -- 'Z'\n\nUsage\n  ping [options]"
    message = parse_error(Ping("1.2.3.4"), "", rc=2, stderr=usage)
    assert "exited 2" in message
    parse_error(Ping("1.2.3.4"), "", rc=2, stderr="ping: socket: Operation not permitted")
    parse_error(Ping("1.2.3.4"), "garbage\n", rc=1)


# --- getent ahostsv4 ----------------------------------------------------------------------------


def test_resolve():
    assert Resolve("gw.lab.test").command() == "RES_OPTIONS='timeout:1 attempts:2' getent ahostsv4 -- gw.lab.test"
    assert replay(Resolve("gw.lab.test"), "resolve") == ["10.20.0.1", "10.20.0.4"]
    assert replay(Resolve("localhost"), "resolve-localhost") == ["127.0.0.1"]


def test_resolve_unknown_name_is_empty():
    assert replay(Resolve("nosuch-host.invalid"), "resolve-unknown") == []


def test_resolve_quoting_and_bad_output():
    assert Resolve("x;id").command() == "RES_OPTIONS='timeout:1 attempts:2' getent ahostsv4 -- 'x;id'"
    parse_error(Resolve("x"), "not-an-ip STREAM x\n")
    parse_error(Resolve("x"), "", rc=1, stderr="Unknown database")


# --- hostname, accounts -------------------------------------------------------------------------


def test_hostname():
    assert replay(Hostname(), "hostname") == "vm"
    parse_error(Hostname(), "\n")


def test_users():
    users = replay(Users(), "users")
    assert users["root"] == User("root", 0, 0, "root", "/root", "/bin/bash")
    assert users["alice"] == User("alice", 1001, 1001, "Alice Martin,,,", "/home/alice", "/bin/bash")
    assert users["bob"].gecos == "" and users["bob"].gid == 100


def test_groups():
    groups = replay(Groups(), "groups")
    assert groups["sudo"] == Group("sudo", 27, ["alice"])
    assert groups["admins"].members == ["alice", "bob"]
    assert groups["alice"].members == []


def test_accounts_bad_output():
    parse_error(Users(), "root:x:0:0:root:/root\n")
    parse_error(Users(), "root:x:zero:0:root:/root:/bin/sh\n")
    parse_error(Groups(), "root:x:0\n")


# --- files --------------------------------------------------------------------------------------


def test_file_content_quoting():
    command = FileContent(AWKWARD_PATH).command()
    path = AWKWARD_PATH
    assert shell_words(command) == [
        "if", "test", "-f", path, ";", "then", "cat", "--", path, ";",
        "elif", "test", "-e", path, ";", "then", "LC_ALL=C", "stat", "-L", "-c", "%", "F", "--", path, ";",  # shlex cuts %F
        "(", "exit", "4", ");", "else", "(", "exit", "3", ");", "fi",
    ]


def test_file_content():
    assert replay(FileContent("/tmp/probe-rec.pHYz/files/a b;c.txt"), "file-content") == "hello\nworld\n"
    assert replay(FileContent("/tmp/probe-rec.pHYz/files/empty"), "file-content-empty") == ""


def test_file_content_missing_is_none():
    assert replay(FileContent("/tmp/probe-rec.pHYz/files/missing"), "file-content-missing") is None
    assert replay(FileContent("/tmp/probe-rec.pHYz/files/dangling"), "file-content-dangling") is None


@pytest.mark.parametrize(
    "name, path, reason, fr, en",
    [
        ("file-content-denied", "a b;c.txt", "permission denied", "ne peut pas être lu : permission refusée",
         "cannot be read: permission denied"),
        ("file-content-directory", "sub dir", "directory", "n'est pas un fichier ordinaire : c'est un dossier",
         "is not a regular file: it is a directory"),
        ("file-content-fifo", "fifo", "fifo", "c'est un tube nommé (fifo)", "it is a named pipe (fifo)"),
    ],
)
def test_file_content_unreadable_is_the_trainees_failure(name, path, reason, fr, en):
    """A path the trainee's work made unreadable (a directory, a fifo where the file goes, a file
    that may not be read) is a failure that says so, in both languages; not a ProbeError."""
    full = f"/tmp/probe-rec.pHYz/files/{path}"
    with pytest.raises(UnreadableFile) as info:
        replay(FileContent(full), name)
    found = info.value
    assert isinstance(found, CheckFailed) and not isinstance(found, ProbeError)
    assert (found.path, found.reason) == (full, reason)
    assert found.message("fr") == f"{full} {fr}" if reason == "permission denied" else fr in found.message("fr")
    assert en in found.message("en") and full in found.message("en")
    assert found.public_message("en") == found.message("en")  # no expected value in it: exam-safe


def test_file_content_other_failures_are_probe_errors():
    parse_error(FileContent("/x"), "", rc=1, stderr="cat: /x: Input/output error")
    parse_error(FileContent("/x"), "", rc=127, stderr="sh: 1: cat: not found")


def test_file_content_never_opens_a_fifo(tmp_path):
    """A fifo where a file was expected would block cat until the check's time is up."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UnreadableFile, match="fifo"):
        FileContent(str(fifo)).evaluate(sh(FileContent(str(fifo))))
    (tmp_path / "dir").mkdir()
    with pytest.raises(UnreadableFile, match="directory"):
        FileContent(str(tmp_path / "dir")).evaluate(sh(FileContent(str(tmp_path / "dir"))))



def test_file_content_not_utf8_is_text(tmp_path):
    """Bytes that are not UTF-8 (a file saved in Latin-1) come back replaced, for the check to
    judge the text, never as an exception."""
    from tspcr_lab.transport.local import LocalTransport

    path = tmp_path / "latin1.txt"
    path.write_bytes(b"nom = Ren\xe9\n")
    assert Host("pc1", LocalTransport("pc1")).probe(FileContent, str(path)) == "nom = Ren\ufffd\n"


@pytest.mark.parametrize(
    "name, path, expected",
    [
        ("file-info-file", "a b;c.txt", ("file", 0o640, "nobody", "nogroup", 12)),
        ("file-info-empty", "empty", ("file", 0o644, "root", "root", 0)),
        ("file-info-directory", "sub dir", ("directory", 0o700, "root", "root", 4096)),
        ("file-info-suid", "suid", ("file", 0o4755, "root", "root", 10)),
        ("file-info-symlink", "link", ("symlink", 0o777, "root", "root", 5)),
        ("file-info-dangling", "dangling", ("symlink", 0o777, "root", "root", 7)),
        ("file-info-fifo", "fifo", ("fifo", 0o644, "root", "root", 0)),
    ],
)
def test_file_info(name, path, expected):
    full = f"/tmp/probe-rec.pHYz/files/{path}"
    kind, mode, owner, group, size = expected
    assert replay(FileInfo(full), name) == FileStat(full, True, kind, mode, owner, group, size)


def test_file_info_missing():
    path = "/tmp/probe-rec.pHYz/files/missing"
    assert replay(FileInfo(path), "file-info-missing") == FileStat(path, exists=False)


def test_file_info_quoting_and_bad_output():
    path = AWKWARD_PATH
    assert shell_words(FileInfo(path).command()) == [
        "if", "test", "-e", path, "||", "test", "-L", path, ";",
        "then", "stat", "-c", "%f %U %G %s", "--", path, ";", "else", "(", "exit", "3", ");", "fi",
    ]
    parse_error(FileInfo("/x"), "81a4 root root\n")
    parse_error(FileInfo("/x"), "zz root root 1\n")
    parse_error(FileInfo("/x"), "", rc=1, stderr="stat: cannot statx '/x': Permission denied")


def sh(probe) -> CommandResult:
    """Run a file probe's command with the local /bin/sh (read-only)."""
    done = subprocess.run(["sh", "-c", probe.command()], capture_output=True, text=True, timeout=10)
    return CommandResult(probe.command(), done.returncode, done.stdout, done.stderr)


def test_file_probes_run_locally(tmp_path):
    path = tmp_path / "my dir" / "a;b $(echo x) 'q'.txt"
    path.parent.mkdir()
    path.write_text("nameserver 10.1.1.1\n")
    path.chmod(0o600)
    assert FileContent(str(path)).evaluate(sh(FileContent(str(path)))) == "nameserver 10.1.1.1\n"
    info = FileInfo(str(path)).evaluate(sh(FileInfo(str(path))))
    assert (info.exists, info.type, info.mode, info.size) == (True, "file", 0o600, 20)
    assert Resolver(str(path)).evaluate(sh(Resolver(str(path)))).nameservers == ["10.1.1.1"]
    missing = str(tmp_path / "missing; touch pwned")
    assert FileContent(missing).evaluate(sh(FileContent(missing))) is None
    assert FileInfo(missing).evaluate(sh(FileInfo(missing))).exists is False
    assert Resolver(missing).evaluate(sh(Resolver(missing))) == ResolverConfig([], [], None)
    assert not (tmp_path / "pwned").exists() and not pathlib.Path("pwned").exists()


# --- through a Host -----------------------------------------------------------------------------


class ReplayTransport(Transport):
    name = "replay"

    def __init__(self, result: CommandResult):
        self.result = result
        self.commands: list[str] = []

    def run(self, command: str, timeout: float) -> CommandResult:
        self.commands.append(command)
        return self.result


def test_host_probe_uses_the_probe_command():
    transport = ReplayTransport(recorded("ip-addr-missing"))
    host = Host("pc1", transport)
    assert host.probe(Addresses, "nosuch0") == []
    assert transport.commands == ["ip -j addr show dev nosuch0"]


def test_the_saved_default_gateway_is_the_option_or_an_up_route():
    from tspcr_lab.probes.network import InterfaceOptions

    assert InterfaceOptions([("gateway", "10.0.0.1")]).default_gateway == "10.0.0.1"
    for up, via in (("ip route add default via 10.0.0.2", "10.0.0.2"), ("ip r a 0.0.0.0/0 via 10.0.0.3 dev eth0", "10.0.0.3"),
                    ("route add default gw 10.0.0.4", "10.0.0.4"), ("ip -4 route replace default via 10.0.0.5", "10.0.0.5"),
                    ("ip route add 10.9.0.0/16 via 10.0.0.6", None)):
        assert InterfaceOptions([("address", "10.0.0.9"), ("up", up)]).default_gateway == via, up
