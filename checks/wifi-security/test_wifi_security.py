"""Checks of the wifi-security lab: competencies 008 (secure wireless access), 032 (securing the
network: WPA3, PMF, no WPS nor TKIP, a strong passphrase) and 031 (the access point, a network
device: its bridge to the wired LAN, hostapd at boot).

The access point is judged from three sides, as an auditor with a radio would:

* passively, from the air: one capture of the medium per grading run (the grader's radio's
  monitor interface, :class:`Air`), in which ap1's beacons say its SSID, channel and RSN element
  (AKM suites, ciphers, PMF bits) and whether a WPS element is there; during that capture the
  laptop is made to associate again (its wpa_supplicant does it by itself once disconnected), so
  that its (re)association request (what it chose: AKM, PMF) and its handshake are in it;
* actively: the grader's radio tries to join as clients would, with the plan's passphrase (it must
  get in), a wrong one, WPA2-PSK alone, TKIP, no security (each must be refused where the plan
  forbids it);
* by attack: the laptop's 4-way handshake (WPA2-PSK) is attacked with a dictionary of common
  passphrases; a WPA3 (SAE) association leaves nothing to attack offline, so the passphrases set
  in ap1's hostapd configuration are judged against the same dictionary.

The laptop and ap1 are read from their own state (its association, address, configuration), and
the laptop's reach by name is tried from it. Checks only read; the laptop's re-association leaves
it as it was (connected again, same configuration).
"""

from __future__ import annotations

import re
import threading
import time

import pytest

from tspcr_lab.errors import ProbeError
from tspcr_lab.probes import FileContent, IfupdownAuto, IfupdownConfig, Links, Ping, Resolve, ServiceAtBoot
from tspcr_lab.probes.network import Addresses
from tspcr_lab.probes.radio import Network, open_probe_radio

RADIO = "air"
CAPTURE_SECONDS = 18  # beacons every 0.1 s; the laptop's re-association takes 1 to 10 s in an emulated CPU
BACK_TIMEOUT = 30  # the laptop is waited for until it is associated again
JOIN_TIMEOUT = 30.0  # an SAE exchange in an emulated CPU takes seconds


def _ap_bssid(hosts) -> str | None:
    links = hosts.ap1.probe(Links)
    return links["wlan0"].mac if "wlan0" in links else None


class Air:
    """The capture of the air shared by a grading run's checks, taken when the first of them asks
    (the lock makes the others wait for it): CAPTURE_SECONDS of the medium while the laptop
    re-associates, when a wpa_supplicant of its own runs for its wlan0 (it then connects again by
    itself: nothing of its configuration is touched). Each check records the capture's summary
    in its own evidence."""

    def __init__(self, lab_context, hosts):
        self.lab_context, self.hosts = lab_context, hosts
        self.lock = threading.Lock()
        self.frames: list | None = None
        self.error: Exception | None = None
        self.notes: list[str] = []

    def get(self, record) -> list:
        with self.lock:
            if self.frames is None and self.error is None:
                self._take()
        for note in self.notes:
            record("capture of the air (shared by the checks)", note)
        if self.error is not None:
            raise self.error
        return self.frames

    def _take(self) -> None:
        notes = self.notes
        try:
            radio = open_probe_radio(self.lab_context, RADIO, lambda what, detail: notes.append(f"{what}: {detail}"))
            box: dict = {}

            def listen() -> None:
                try:
                    box["frames"] = radio.capture(CAPTURE_SECONDS)
                except Exception as exc:  # noqa: BLE001 - raised below, in the check that asked
                    box["error"] = exc

            listener = threading.Thread(target=listen, name="air-capture")
            listener.start()
            time.sleep(3)  # the monitor listens before the laptop leaves
            laptop = self.hosts.laptop
            again = laptop.run("wpa_cli -i wlan0 reassociate")
            if again.rc == 0 and "OK" in again.stdout:
                t0 = time.monotonic()
                # Bounded by the clock, not by a count of tries: each wpa_cli takes a while in an
                # emulated CPU. A laptop that does not come back is a fact of the trainee's work
                # (the checks of the laptop say it), not an error of the capture.
                back = laptop.run("end=$(( $(date +%%s) + %s )); while [ $(date +%%s) -lt $end ]; do sleep 1; "
                                  "wpa_cli -i wlan0 status | grep -qx wpa_state=COMPLETED && exit 0; done; exit 1",
                                  str(BACK_TIMEOUT), timeout=BACK_TIMEOUT + 20)
                notes.append("the laptop was asked to associate again (wpa_cli reassociate: same network, same "
                             f"configuration): {'associated again' if back.rc == 0 else 'not associated again'} "
                             f"after {time.monotonic() - t0:.0f} s")
            else:
                notes.append("the laptop's wpa_supplicant has no control interface: not asked to associate again")
            listener.join()
            if "error" in box:
                raise box["error"]
            self.frames = box["frames"]
        except Exception as exc:  # noqa: BLE001 - every check that needs the capture says it
            self.error = exc


@pytest.fixture(scope="module")
def air(lab_context, hosts):
    return Air(lab_context, hosts)


@pytest.fixture
def note(note):
    """The plugin's ``note``, from the grader's radio."""
    return lambda what, detail: note(what, detail, host=f"radio {RADIO}")


def _the_bss(air, note, hosts, expected):
    """The plan's BSS as ap1's beacons announce it (ProbeError when ap1 has no radio: an error)."""
    from tspcr_lab.probes.wifi import beacons

    bssid = _ap_bssid(hosts)
    if bssid is None:
        raise ProbeError("ap1 has no wlan0 interface: its radio is not there")
    heard = beacons(air.get(note))
    note("BSS heard", "; ".join(f"{b}: {s.summary()}" for b, s in heard.items()) or "none")
    return bssid, heard.get(bssid.lower()), heard


# -- 008: the access point announces the plan's network -------------------------------------

@pytest.mark.competency("008", points=2, critical=True)
def test_network_announced(air, note, hosts, expected, check):
    """ap1's radio announces the plan's SSID on the plan's channel (its beacons, heard on the air)."""
    bssid, bss, heard = _the_bss(air, note, hosts, expected)
    check.that(bss is not None, fr=f"aucune balise (beacon) de ap1 ({bssid}) n'est entendue : hostapd n'émet pas",
               en=f"no beacon of ap1 ({bssid}) is heard: hostapd is not on the air")
    check.equal(bss.ssid, expected["ssid"], fr="SSID annoncé par ap1", en="SSID announced by ap1")
    check.equal(bss.channel, expected["channel"], fr="canal de ap1", en="ap1's channel")


@pytest.mark.competency("032", points=2)
@pytest.mark.parametrize("aspect", ["akm", "ciphers", "pmf", "wps"])
def test_network_security(aspect, air, note, hosts, expected, check):
    """What ap1's beacons announce: the plan's key management (SAE, and PSK in transition mode),
    CCMP only, management frame protection as the plan says, no WPS."""
    bssid, bss, _ = _the_bss(air, note, hosts, expected)
    check.that(bss is not None, fr=f"aucune balise de ap1 ({bssid}) n'est entendue",
               en=f"no beacon of ap1 ({bssid}) is heard")
    if aspect == "akm":
        check.that(bss.rsn and not bss.wpa1, fr=f"ap1 n'annonce pas le seul RSN (WPA2/WPA3) : {bss.summary()}",
                   en=f"ap1 does not announce RSN (WPA2/WPA3) alone: {bss.summary()}")
        check.equal(sorted(bss.akms), sorted(expected["akms"]), fr="gestion des clés annoncée (AKM)",
                    en="key management announced (AKM)")
    elif aspect == "ciphers":
        check.equal(list(bss.pairwise), ["CCMP"], fr="chiffrement des échanges (pairwise)", en="pairwise cipher")
        check.equal(bss.group, "CCMP", fr="chiffrement de groupe", en="group cipher")
    elif aspect == "pmf":
        required = expected["pmf"] == "required"
        check.that(bss.mfp_capable, fr="ap1 ne propose pas la protection des trames de gestion (PMF)",
                   en="ap1 does not offer management frame protection (PMF)")
        check.equal(bss.mfp_required, required, fr="PMF obligatoire (ieee80211w=2)" if required else
                    "PMF proposée mais pas obligatoire (ieee80211w=1 : les anciens appareils doivent pouvoir se connecter)",
                    en="PMF required (ieee80211w=2)" if required else
                    "PMF offered but not required (ieee80211w=1: older devices must be able to join)")
    else:
        check.that(not bss.wps, fr="ap1 annonce le WPS (wps_state) : il doit être désactivé",
                   en="ap1 announces WPS (wps_state): it must be disabled")


# -- 008 / 032: joining, as clients would ----------------------------------------------------

JOINS = ["plan", "wrong-passphrase", "wpa2-psk", "tkip", "open"]


def _network(case: str, expected) -> Network:
    ssid, passphrase, freq = expected["ssid"], expected["passphrase"], expected["frequency"]
    if case == "plan":
        return Network(ssid, "SAE", passphrase, 2, frequency=freq)
    if case == "wrong-passphrase":
        return Network(ssid, "SAE", "Wrong-" + passphrase[::-1], 2, frequency=freq)
    if case == "wpa2-psk":
        return Network(ssid, "WPA-PSK", passphrase, 0, frequency=freq)
    if case == "tkip":
        return Network(ssid, "WPA-PSK", passphrase, 0, pairwise="TKIP", group="TKIP", proto="WPA RSN",
                       frequency=freq)
    return Network(ssid, "NONE", frequency=freq)


@pytest.mark.competency("008", points=1)
@pytest.mark.parametrize("case", JOINS)
def test_join(case, probe_radio, air, note, hosts, expected, check):
    """The grader's radio joins as a client would: with the plan's passphrase (WPA3-SAE) it gets
    in; with a wrong passphrase it is refused (by the key: an AP that offers no SAE refuses
    nothing); WPA2-PSK alone gets in only in transition mode; TKIP and an open association are
    always refused. A refusal counts only from an AP on the air with the plan's network."""
    radio = probe_radio(RADIO)
    network = _network(case, expected)
    allowed = case == "plan" or (case == "wpa2-psk" and expected["mode"] == "transition")
    if not allowed:
        bssid, bss, _ = _the_bss(air, note, hosts, expected)
        check.that(bss is not None and bss.ssid == expected["ssid"],
                   fr=f"ap1 n'annonce pas « {expected['ssid']} » : il ne refuse rien, il n'est pas là",
                   en=f"ap1 does not announce '{expected['ssid']}': it refuses nothing, it is not there")
    result = radio.join(network, timeout=JOIN_TIMEOUT)
    fr, en = result.explain()
    if allowed:
        check.that(result.connected, fr=f"un client {network.describe()} n'entre pas : {fr}",
                   en=f"a client {network.describe()} does not get in: {en}")
    elif result.outcome in ("timeout", "failed"):
        # no answer at all is no refusal
        check.that(False, fr=f"pas de refus net pour {network.describe()} ({fr}) : le point d'accès répond-il ?",
                   en=f"no clear refusal for {network.describe()} ({en}): does the AP answer?")
    elif case == "wrong-passphrase":
        check.that(result.outcome in ("wrong-key", "rejected"),
                   fr=f"un client {network.describe()} avec une mauvaise phrase de passe : {fr} (attendu : refusé pour la clé)",
                   en=f"a client {network.describe()} with a wrong passphrase: {en} (expected: refused for its key)")
    else:
        check.that(not result.connected, fr=f"un client {network.describe()} entre : le plan l'interdit",
                   en=f"a client {network.describe()} gets in: the plan forbids it")


@pytest.mark.competency("032", points=2)
def test_passphrase_strong(air, note, hosts, expected, check):
    """The passphrase resists a dictionary of common passphrases: the laptop's WPA2 handshake is
    attacked when the air carried one; otherwise (SAE leaves nothing to attack offline) the
    passphrases of ap1's hostapd configuration are judged against the same dictionary."""
    from tspcr_lab.probes.wifi import crack, handshakes, load_wordlist, passphrase_weakness

    words = load_wordlist()
    frames = air.get(note)
    attacked = [h for h in handshakes(frames) if h.crackable]
    for handshake in attacked:
        found = crack(handshake, expected["ssid"], words)
        note(f"dictionary attack on the handshake of {handshake.sta}", f"{len(words)} words: "
             f"{'found' if found else 'not found'}")
        check.that(found is None, fr=f"la phrase de passe est tombée au dictionnaire en quelques secondes : « {found} »",
                   en=f"the passphrase fell to a dictionary in seconds: '{found}'")
    conf = hosts.ap1.probe(FileContent("/etc/hostapd/hostapd.conf", secrets=(expected["passphrase"],)))
    secrets = re.findall(r"^\s*(?:wpa_passphrase|sae_password)=([^\n|]*)", conf or "", re.M)
    note("passphrases set in hostapd.conf", f"{len(secrets)} found")
    if not attacked:
        check.that(bool(secrets), fr="aucune phrase de passe dans /etc/hostapd/hostapd.conf de ap1, ni poignée de main à attaquer",
                   en="no passphrase in ap1's /etc/hostapd/hostapd.conf, and no handshake to attack")
    for secret in secrets:
        weakness = passphrase_weakness(secret.strip(), words, ssid=expected["ssid"])
        check.that(weakness is None, fr=f"phrase de passe faible : {weakness[0] if weakness else ''}",
                   en=f"weak passphrase: {weakness[1] if weakness else ''}")


# -- 008: the laptop -----------------------------------------------------------------------

@pytest.mark.competency("008", points=2)
def test_laptop_associated(air, note, hosts, expected, check):
    """The laptop is associated with ap1 on the plan's SSID, and asked for WPA3 (SAE) with PMF
    required (its association request, heard on the air)."""
    from tspcr_lab.probes.wifi import association_requests

    link = hosts.laptop.run("iw dev wlan0 link").stdout
    bssid = _ap_bssid(hosts)
    connected = re.search(r"Connected to ([0-9a-f:]{17})", link)
    ssid = re.search(r"^\s*SSID: (.*)$", link, re.M)
    check.that(connected is not None, fr="le portable n'est associé à aucun point d'accès (iw dev wlan0 link)",
               en="the laptop is associated with no access point (iw dev wlan0 link)")
    check.equal(connected.group(1), (bssid or "").lower(), fr="point d'accès du portable (BSSID)", en="the laptop's AP (BSSID)")
    check.equal(ssid.group(1).strip() if ssid else None, expected["ssid"], fr="SSID du portable", en="the laptop's SSID")
    mac = hosts.laptop.probe(Links).get("wlan0")
    requests = association_requests(air.get(note))
    asked = requests.get(mac.mac.lower()) if mac and mac.mac else None
    if asked is not None:  # what the laptop sent on the air
        note("the laptop's association request", f"AKM {', '.join(asked.akms) or 'none'}, pairwise "
             f"{', '.join(asked.pairwise) or 'none'}, PMF capable {asked.mfp_capable}, required {asked.mfp_required}")
        check.equal(list(asked.akms), ["SAE"], fr="sécurité choisie par le portable (AKM)",
                    en="security the laptop chose (AKM)")
        check.that(asked.mfp_required, fr="le portable n'exige pas la PMF (ieee80211w=2)",
                   en="the laptop does not require PMF (ieee80211w=2)")
        return
    # not heard (no control interface to ask it to associate again): what its supplicant says
    status = hosts.laptop.run("wpa_cli -i wlan0 status")
    values = dict(line.split("=", 1) for line in status.stdout.splitlines() if "=" in line)
    check.that(status.rc == 0 and bool(values), fr="ni demande d'association entendue, ni « wpa_cli -i wlan0 status » "
                                                   "(ctrl_interface manque dans wpa_supplicant.conf)",
               en="neither an association request heard nor 'wpa_cli -i wlan0 status' (ctrl_interface is missing "
                  "in wpa_supplicant.conf)")
    check.equal(values.get("key_mgmt"), "SAE", fr="sécurité de l'association du portable", en="the laptop's association security")
    check.equal(values.get("pmf"), "2", fr="PMF de l'association du portable (2 : requise)", en="the laptop's association PMF (2: required)")


@pytest.mark.competency("008", points=2)
def test_laptop_persistent(hosts, expected, check):
    """The laptop's wireless configuration survives a reboot: wlan0 is brought up at boot by
    ifupdown on DHCP through wpa_supplicant (wpa-conf naming a file that holds the plan's network
    with SAE, or wpa-ssid and wpa-key-mgmt SAE)."""
    boot = hosts.laptop.probe(IfupdownAuto)
    check.that("wlan0" in boot["auto"] + boot["hotplug"], fr="wlan0 n'est pas activée au démarrage (auto wlan0)",
               en="wlan0 is not brought up at boot (auto wlan0)")
    declared = IfupdownConfig("wlan0")
    declared.secrets = (expected["passphrase"],)  # a wpa-psk line would hold it
    options = hosts.laptop.probe(declared)
    check.that(options is not None, fr="wlan0 n'est pas déclarée dans /etc/network/interfaces",
               en="wlan0 is not declared in /etc/network/interfaces")
    if "wpa-conf" in options:
        text = hosts.laptop.probe(FileContent(options["wpa-conf"], secrets=(expected["passphrase"],))) or ""
        check.that(f'ssid="{expected["ssid"]}"' in text, fr=f"{options['wpa-conf']} ne contient pas le réseau « {expected['ssid']} »",
                   en=f"{options['wpa-conf']} does not hold the network '{expected['ssid']}'")
        check.that(re.search(r"^\s*key_mgmt=.*\bSAE\b", text, re.M) is not None,
                   fr=f"le réseau de {options['wpa-conf']} n'est pas en SAE (key_mgmt=SAE)",
                   en=f"the network of {options['wpa-conf']} is not SAE (key_mgmt=SAE)")
    else:
        check.equal(options.get("wpa-ssid"), expected["ssid"], fr="wpa-ssid de wlan0 (ou wpa-conf)", en="wlan0's wpa-ssid (or wpa-conf)")
        check.that("SAE" in (options.get("wpa-key-mgmt") or ""), fr="wpa-key-mgmt SAE manque pour wlan0",
                   en="wpa-key-mgmt SAE is missing for wlan0")


@pytest.mark.competency("008", points=2)
def test_laptop_address(hosts, expected, check):
    """The laptop's wlan0 holds an address of the LAN from srv1's DHCP (a lease, within its range)."""
    import ipaddress

    addresses = [a for a in hosts.laptop.probe(Addresses, "wlan0") if a.family == "inet"]
    check.that(bool(addresses), fr="wlan0 du portable n'a pas d'adresse IPv4", en="the laptop's wlan0 has no IPv4 address")
    network = ipaddress.IPv4Network(expected["network"])
    start, end = (ipaddress.IPv4Address(expected["range"][k]) for k in ("start", "end"))
    mine = [ipaddress.IPv4Address(a.address) for a in addresses]
    check.that(any(start <= a <= end for a in mine),
               fr=f"adresse(s) {', '.join(map(str, mine))} hors de la plage DHCP de srv1 ({start} à {end}, réseau {network})",
               en=f"address(es) {', '.join(map(str, mine))} outside srv1's DHCP range ({start} to {end}, network {network})")


@pytest.mark.competency("008", points=2, critical=True)
def test_laptop_reaches_server(hosts, expected, check):
    """The laptop resolves the server's name through srv1 and reaches it (through ap1's bridge)."""
    name = expected["server_name"]
    check.equal(hosts.laptop.probe(Resolve, name), [expected["srv1"]], fr=f"adresse de {name} vue du portable",
                en=f"address of {name} from the laptop")
    ping = hosts.laptop.probe(Ping, name, count=1, wait=3)
    check.that(ping.reachable, fr=f"le portable ne joint pas {name}", en=f"the laptop cannot reach {name}")


@pytest.mark.competency("008", points=1)
def test_laptop_identity(hosts, expected, check):
    """The laptop's name is the plan's (/etc/hostname) and its Wi-Fi MAC address is noted in the
    file the plan names."""
    saved = (hosts.laptop.probe(FileContent, "/etc/hostname") or "").strip()
    check.equal(saved, expected["laptop_name"], fr="nom du portable dans /etc/hostname", en="the laptop's name in /etc/hostname")
    path = expected["mac_file"]
    content = hosts.laptop.probe(FileContent, path)
    check.that(content is not None, fr=f"le fichier {path} n'existe pas sur le portable", en=f"file {path} does not exist on the laptop")
    link = hosts.laptop.probe(Links).get("wlan0")
    found = [m.replace("-", ":") for m in re.findall(r"(?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2}", content.lower())]
    check.equal(found, [link.mac if link else None], fr=f"adresse MAC notée dans {path}", en=f"MAC address written in {path}")


# -- 031: the access point as a network device -----------------------------------------------

@pytest.mark.competency("031", points=2)
def test_ap_bridge(hosts, expected, check):
    """ap1's bridge br0 joins eth0 and wlan0, holds the plan's address now and in its interfaces
    files (bridge_ports eth0, brought up at boot), and srv1 reaches it over the LAN."""
    ports = hosts.ap1.run("ip -o link show master br0 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1").stdout.split()
    check.equal(sorted(ports), ["eth0", "wlan0"], fr="ports du pont br0 de ap1", en="ports of ap1's bridge br0")
    now = [f"{a.address}/{a.prefixlen}" for a in hosts.ap1.probe(Addresses, "br0") if a.family == "inet"]
    check.equal(now, [expected["ap1_cidr"]], fr="adresse de br0", en="br0's address")
    boot = hosts.ap1.probe(IfupdownAuto)
    options = hosts.ap1.probe(IfupdownConfig, "br0")
    check.that(options is not None and "br0" in boot["auto"] + boot["hotplug"],
               fr="br0 n'est pas déclaré et activé au démarrage dans /etc/network/interfaces",
               en="br0 is not declared and brought up at boot in /etc/network/interfaces")
    bridge_ports = (options.get("bridge-ports") or options.get("bridge_ports") or "") if options is not None else ""
    check.that("eth0" in bridge_ports.split(), fr="bridge_ports eth0 manque pour br0",
               en="bridge_ports eth0 is missing for br0")
    check.equal(options.cidr if options is not None else None, expected["ap1_cidr"], fr="adresse de br0 au démarrage",
                en="br0's address at boot")
    ping = hosts.srv1.probe(Ping, expected["ap1"], count=1, wait=2)
    check.that(ping.reachable, fr=f"srv1 ne joint pas ap1 ({expected['ap1']})", en=f"srv1 cannot reach ap1 ({expected['ap1']})")


@pytest.mark.competency("031", points=1)
def test_hostapd_at_boot(hosts, check):
    """hostapd starts when ap1 boots (its list of boot services on the virtual lab, systemd or rc
    links on a real Debian)."""
    boot = hosts.ap1.probe(ServiceAtBoot, "hostapd")
    check.that(boot.enabled, fr=f"hostapd ne démarre pas avec ap1 ({boot.evidence()})",
               en=f"hostapd does not start with ap1 ({boot.evidence()})")
