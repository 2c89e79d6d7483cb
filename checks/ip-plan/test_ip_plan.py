"""Checks of the ip-plan lab: competencies 007 (wired network access) and 030 (plan and configure IP).

Each requirement is checked from the PC's own state (what it is configured with, now and after a
reboot) and, where it can be, from the network: the router reaches the planned address and finds
the PC's MAC address behind it. Checks only read.
"""

import re

import pytest

from tspcr_lab.errors import ProbeError

from tspcr_lab.probes import (
    Addresses,
    FileContent,
    Hostname,
    IfupdownAuto,
    IfupdownConfig,
    Links,
    Neighbors,
    Ping,
    Resolve,
    Resolver,
    Routes,
    default_gateways,
    ipv4_addresses,
)

PCS = ["pc1", "pc2"]


# -- 030: plan and configure IP ---------------------------------------------------------------

@pytest.mark.competency("030", points=2)
@pytest.mark.parametrize("pc", PCS)
def test_address(pc, hosts, expected, check):
    """eth0 has the planned IPv4 address and prefix, and nothing else."""
    want = expected["pcs"][pc]["address"]
    found = [a.cidr for a in ipv4_addresses(hosts[pc].probe(Addresses, "eth0"))]
    check.equal(found, [want], fr=f"adresse IPv4 de eth0 sur {pc}", en=f"IPv4 address of eth0 on {pc}")


@pytest.mark.competency("030", points=1)
@pytest.mark.parametrize("pc", PCS)
def test_gateway(pc, hosts, expected, check):
    """The default route goes through the router's address on LAN A."""
    found = default_gateways(hosts[pc].probe(Routes))
    check.equal(found, [expected["gateway_a"]], fr=f"passerelle par défaut de {pc}", en=f"default gateway of {pc}")


@pytest.mark.competency("030", points=1)
@pytest.mark.parametrize("pc", PCS)
def test_persistent(pc, hosts, expected, check):
    """The address and gateway are in the interfaces files and eth0 comes up at boot. Sides: what
    ifupdown itself reads (ifquery: /etc/network/interfaces and what it sources, an address with a
    prefix or a netmask, a ``gateway`` option or an ``up`` command adding the default route), and
    ``auto`` or ``allow-hotplug`` (both brought up at boot)."""
    host = hosts[pc]
    try:
        config = host.probe(IfupdownConfig, "eth0")
    except ProbeError as exc:  # ifquery cannot read the trainee's interfaces file: their work is wrong
        check.fail(fr=f"{pc} : /etc/network/interfaces est illisible ({exc})",
                   en=f"{pc}: /etc/network/interfaces cannot be read ({exc})")
    check.that(
        config is not None,
        fr=f"{pc} : eth0 n'est pas déclarée dans /etc/network/interfaces, sa configuration sera perdue au redémarrage",
        en=f"{pc}: eth0 is not declared in /etc/network/interfaces, its configuration will be lost at reboot",
    )
    want = expected["pcs"][pc]["address"]
    check.equal(config.cidr, want, fr=f"adresse enregistrée pour eth0 sur {pc}", en=f"address saved for eth0 on {pc}")
    check.equal(config.default_gateway, expected["gateway_a"],
                fr=f"passerelle enregistrée pour eth0 sur {pc}", en=f"gateway saved for eth0 on {pc}")
    boot = host.probe(IfupdownAuto)
    check.that(
        "eth0" in boot["auto"] + boot["hotplug"],
        fr=f"{pc} : eth0 n'est pas activée au démarrage (il manque « auto eth0 » ou « allow-hotplug eth0 »)",
        en=f"{pc}: eth0 is not brought up at boot ('auto eth0' or 'allow-hotplug eth0' is missing)",
    )


@pytest.mark.competency("030", points=1)
@pytest.mark.parametrize("pc", PCS)
def test_reachable_from_router(pc, hosts, expected, check):
    """Seen from the network: r1 reaches the planned address, and finds this PC's MAC behind it."""
    address = expected["pcs"][pc]["address"].split("/")[0]
    ping = hosts.r1.probe(Ping, address, count=1, wait=1)
    check.that(ping.reachable, fr=f"le routeur r1 ne joint pas {pc} à l'adresse prévue {address}",
               en=f"router r1 cannot reach {pc} at its planned address {address}")
    neighbors = [n.mac for n in hosts.r1.probe(Neighbors, address) if n.mac]
    own = hosts[pc].probe(Links)
    mac = own["eth0"].mac if "eth0" in own else None
    check.equal(neighbors[:1], [mac], fr=f"adresse MAC qui répond pour {address} (celle de {pc} attendue)",
                en=f"MAC address answering for {address} ({pc}'s expected)")


# -- 007: wired network access ----------------------------------------------------------------

@pytest.mark.competency("007", points=1)
@pytest.mark.parametrize("pc", PCS)
def test_hostname(pc, hosts, expected, check):
    """The host name is set now and in /etc/hostname (so it survives a reboot)."""
    want = expected["pcs"][pc]["hostname"]
    check.equal(hosts[pc].probe(Hostname), want, fr=f"nom d'hôte de {pc}", en=f"host name of {pc}")
    saved = hosts[pc].probe(FileContent, "/etc/hostname")
    check.equal((saved or "").strip(), want, fr=f"nom enregistré dans /etc/hostname sur {pc}",
                en=f"name saved in /etc/hostname on {pc}")


@pytest.mark.competency("007", points=1)
@pytest.mark.parametrize("pc", PCS)
def test_dns_server(pc, hosts, expected, check):
    """The DNS server is the lab's (srv1)."""
    resolver = hosts[pc].probe(Resolver)
    check.equal(resolver.nameservers, [expected["dns"]], fr=f"serveur(s) DNS de {pc}", en=f"DNS server(s) of {pc}")


@pytest.mark.competency("007", points=1)
def test_mac_file(hosts, expected, check):
    """pc1's MAC address is written in the file named in the parameters."""
    path = expected["mac_file"]
    content = hosts.pc1.probe(FileContent, path)
    check.that(content is not None, fr=f"le fichier {path} n'existe pas sur pc1", en=f"file {path} does not exist on pc1")
    links = hosts.pc1.probe(Links)
    mac = links["eth0"].mac if "eth0" in links else None
    found = re.findall(r"(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}", content.lower())
    check.equal([m.replace("-", ":") for m in found], [mac], fr=f"adresse MAC écrite dans {path}",
                en=f"MAC address written in {path}")


@pytest.mark.competency("007", points=2, critical=True)
def test_reaches_server_by_name(hosts, expected, check):
    """pc1 resolves the server's name through the lab's DNS and reaches it through the router."""
    name, server = expected["server_name"], expected["dns"]
    resolved = hosts.pc1.probe(Resolve, name)
    check.equal(resolved, [server], fr=f"adresse de {name} résolue par pc1", en=f"address of {name} resolved by pc1")
    ping = hosts.pc1.probe(Ping, name, count=1, wait=2)
    check.that(ping.reachable, fr=f"pc1 ne joint pas {name} ({server})", en=f"pc1 cannot reach {name} ({server})")
