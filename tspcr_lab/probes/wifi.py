"""802.11 captures of a wifi-security lab: what an access point announces, the keys its clients
negotiate, and whether its passphrase falls to a dictionary.

The grader captures frames on a monitor interface of the lab (``mac80211_hwsim`` radios in a VM,
a pcap with radiotap headers) and reads the file here, on the host. Nothing is sent: these are
offline analyses of what the air carried.

* :func:`read_capture` reads a pcap or pcapng file; a missing, empty, truncated or foreign file,
  or one whose link type is not 802.11 (a capture not made on a monitor interface), is a
  :class:`~tspcr_lab.errors.ProbeError` with a one-line message, never a traceback.
* :func:`beacons` gives what each BSS announces in its beacons and probe responses
  (:class:`BssSecurity`): SSID, channel, the privacy bit, the RSN element's AKM and cipher suites
  and its PMF bits (802.11-2020 9.4.2.24), the WPA vendor element of TKIP-era WPA (OUI 00:50:F2
  type 1) and the WPS one (type 4). :attr:`BssSecurity.kind` sums it up ("open", "wep", "wpa",
  "wpa2", "wpa3", "wpa2/wpa3", "owe", "enterprise") and :meth:`BssSecurity.weak_reasons` explains
  what is weak in it, in French and English.
* :func:`handshakes` pairs the EAPOL-Key messages of 4-way handshakes (:class:`Handshake`) and
  :func:`sae_exchanges` the SAE authentication frames of WPA3 associations (:class:`SaeExchange`),
  which leave nothing to crack offline.
* :func:`crack` runs a dictionary attack on a handshake in pure Python (``hashlib``/``hmac``; the
  AES-CMAC of key descriptor version 3 comes from ``cryptography``): PMK = PBKDF2-HMAC-SHA1 of the
  passphrase (802.11i-2004 H.4), PTK by the PRF-SHA1 of 802.11i (versions 1 and 2) or the
  KDF-SHA256 of 802.11-2016 12.7.1.7.2 (version 3), then M2's MIC. :func:`load_wordlist` reads the
  packaged list of common weak passphrases (``data/wifi-common-passphrases.txt``), and
  :func:`passphrase_is_weak` judges a configured passphrase where no handshake can be attacked
  (SAE).

A check reads a capture once and asks it what it needs::

    packets = read_capture(path)
    bss = beacons(packets)[bssid]            # bss.kind == "wpa3", bss.weak_reasons() == []
    for handshake in handshakes(packets):    # none for SAE: sae_exchanges(packets) instead
        found = crack(handshake, bss.ssid, load_wordlist())

Frames are dissected with scapy's ``dot11`` and ``eap`` layers only (imported at the first read,
0.2-0.4 s, never ``scapy.all``). The information elements of a beacon are read from the frame
body's bytes here, not through scapy's element classes: its ``Dot11EltRSN`` reads past an RSN
element that stops early (every field after the group cipher is optional) and the rest of the
frame then dissects as ``Raw``, channel and WPS included.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import io
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import ProbeError

OUI_IEEE = 0x000FAC  # suites of the RSN element
OUI_MICROSOFT = 0x0050F2  # the WPA and WPS vendor elements
WPA_ELEMENT_TYPE = 1
WPS_ELEMENT_TYPE = 4

# 802.11-2020 Table 9-149, the names hostapd uses.
CIPHERS = {
    0: "USE-GROUP", 1: "WEP-40", 2: "TKIP", 4: "CCMP", 5: "WEP-104", 6: "BIP-CMAC-128",
    7: "GROUP-NOT-ALLOWED", 8: "GCMP", 9: "GCMP-256", 10: "CCMP-256", 11: "BIP-GMAC-128",
    12: "BIP-GMAC-256", 13: "BIP-CMAC-256",
}
# 802.11-2020 Table 9-151.
AKMS = {
    1: "802.1X", 2: "PSK", 3: "FT-802.1X", 4: "FT-PSK", 5: "802.1X-SHA256", 6: "PSK-SHA256",
    7: "TDLS", 8: "SAE", 9: "FT-SAE", 10: "AP-PEERKEY", 11: "802.1X-SUITE-B",
    12: "802.1X-SUITE-B-192", 13: "FT-802.1X-SHA384", 14: "FILS-SHA256", 15: "FILS-SHA384",
    16: "FT-FILS-SHA256", 17: "FT-FILS-SHA384", 18: "OWE", 19: "FT-PSK-SHA384", 20: "PSK-SHA384",
    21: "PASN", 22: "FT-802.1X-SHA384-2", 23: "802.1X-SHA384", 24: "SAE-EXT-KEY",
    25: "FT-SAE-EXT-KEY",
}
# The WPA element's suites (OUI 00:50:F2): the same numbers for what existed then.
WPA_CIPHERS = {0: "USE-GROUP", 1: "WEP-40", 2: "TKIP", 4: "CCMP", 5: "WEP-104"}
WPA_AKMS = {1: "802.1X", 2: "PSK"}

PSK_AKMS = frozenset({"PSK", "FT-PSK", "PSK-SHA256", "PSK-SHA384", "FT-PSK-SHA384"})
SAE_AKMS = frozenset({"SAE", "FT-SAE", "SAE-EXT-KEY", "FT-SAE-EXT-KEY"})
ENTERPRISE_AKMS = frozenset({
    "802.1X", "FT-802.1X", "802.1X-SHA256", "802.1X-SUITE-B", "802.1X-SUITE-B-192",
    "FT-802.1X-SHA384", "FT-802.1X-SHA384-2", "802.1X-SHA384", "FILS-SHA256", "FILS-SHA384",
    "FT-FILS-SHA256", "FT-FILS-SHA384",
})
WEP_CIPHERS = frozenset({"WEP-40", "WEP-104"})

# pcap link types of 802.11 captures: plain, Prism, radiotap, AVS, PPI.
DOT11_LINKTYPES = {105: "802.11", 119: "Prism", 127: "radiotap", 163: "AVS", 192: "PPI"}
LINKTYPE_NAMES = {0: "null/loopback", 1: "Ethernet", 101: "raw IP", 113: "Linux cooked", 276: "Linux cooked v2"}
PCAP_MAGICS = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"

# Key descriptor versions (802.11-2020 12.7.2, Key Information bits 0-2).
KEY_VERSIONS = {1: "HMAC-MD5/RC4", 2: "HMAC-SHA1-128/AES", 3: "AES-128-CMAC/AES"}
MIC_OFFSET = 81  # in an EAPOL-Key frame: 802.1X header 4, descriptor up to the MIC 77
MIC_LENGTH = 16
TK_BYTES = {"TKIP": 32, "CCMP": 16, "GCMP": 16, "CCMP-256": 32, "GCMP-256": 32}
PASSPHRASE_MIN, PASSPHRASE_MAX = 8, 63  # 802.11-2020 J.4.1: 8 to 63 characters

# SAE (802.11-2020 12.4): authentication algorithm 3, transaction 1 commit, 2 confirm. A commit
# with status 0, 126 (hash-to-element) or 127 (SAE-PK) carries a group; 76 asks for an
# anti-clogging token, 77 refuses the group.
SAE_ALGORITHM = 3
SAE_COMMIT, SAE_CONFIRM = 1, 2
SAE_OK_STATUSES = frozenset({0, 126, 127})

WORDLIST = ("data", "wifi-common-passphrases.txt")


@functools.cache
def _scapy() -> Any:
    """The scapy layers read here (``dot11`` and ``eap``, 0.2-0.4 s to import, once)."""
    from types import SimpleNamespace

    from scapy.layers.dot11 import (Dot11, Dot11AssoReq, Dot11Auth, Dot11Beacon, Dot11ProbeResp, Dot11ReassoReq,
                                    RadioTap)
    from scapy.layers.eap import EAPOL, EAPOL_KEY
    from scapy.utils import PcapReader

    return SimpleNamespace(Dot11=Dot11, Dot11Auth=Dot11Auth, Dot11Beacon=Dot11Beacon,
                           Dot11ProbeResp=Dot11ProbeResp, RadioTap=RadioTap, EAPOL=EAPOL,
                           EAPOL_KEY=EAPOL_KEY, PcapReader=PcapReader, Dot11AssoReq=Dot11AssoReq,
                           Dot11ReassoReq=Dot11ReassoReq)


# --- reading a capture -------------------------------------------------------------------------


def _pcap_linktypes(data: bytes) -> set[int]:
    """The link types of a pcap or pcapng file, after checking that every record is whole.
    Raises ValueError with what is wrong."""
    if not data:
        raise ValueError("empty file")
    if data[:4] in PCAP_MAGICS:
        order = PCAP_MAGICS[data[:4]]
        if len(data) < 24:
            raise ValueError(f"truncated pcap header ({len(data)} of 24 bytes)")
        linktype = struct.unpack_from(order + "I", data, 20)[0] & 0xFFFF
        offset, count = 24, 0
        while offset < len(data):
            count += 1
            if len(data) - offset < 16:
                raise ValueError(f"truncated: packet {count} has {len(data) - offset} of its 16 header bytes")
            length = struct.unpack_from(order + "I", data, offset + 8)[0]
            offset += 16 + length
            if offset > len(data):
                raise ValueError(f"truncated: packet {count} lacks {offset - len(data)} of its {length} bytes")
        return {linktype}
    if data[:4] == PCAPNG_MAGIC:
        order, offset, linktypes = "<", 0, set()
        while offset < len(data):
            if len(data) - offset < 12:
                raise ValueError(f"truncated: a pcapng block at byte {offset} has {len(data) - offset} bytes")
            if data[offset:offset + 4] == PCAPNG_MAGIC:  # section header: its byte order
                order = "<" if data[offset + 8:offset + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            kind, length = struct.unpack_from(order + "II", data, offset)
            if length < 12 or length % 4:
                raise ValueError(f"corrupt pcapng block at byte {offset} (length {length})")
            if offset + length > len(data):
                raise ValueError(f"truncated: the pcapng block at byte {offset} lacks {offset + length - len(data)} bytes")
            if kind == 1:  # interface description
                linktypes.add(struct.unpack_from(order + "H", data, offset + 8)[0])
            offset += length
        return linktypes
    raise ValueError(f"not a pcap or pcapng capture (it begins with {data[:8].hex(' ')})")


def read_capture(path: str | Path) -> list[Any]:
    """The frames of the pcap or pcapng file at ``path`` (scapy packets, radiotap first).

    Raises :class:`~tspcr_lab.errors.ProbeError` with a one-line message when the file is
    missing or unreadable, empty, truncated, not a capture, or of a link type that is not 802.11.
    A capture of no frame at all (a header only) is an empty list."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProbeError(f"capture {path}: cannot be read ({exc.strerror or exc})") from None
    try:
        linktypes = _pcap_linktypes(data)
    except ValueError as exc:
        raise ProbeError(f"capture {path}: {exc}") from None
    foreign = sorted(lt for lt in linktypes if lt not in DOT11_LINKTYPES)
    if foreign:
        names = ", ".join(f"{lt} ({LINKTYPE_NAMES.get(lt, 'not 802.11')})" for lt in foreign)
        raise ProbeError(f"capture {path}: link type {names}, not 802.11: it was not made on a monitor interface")
    try:
        with _scapy().PcapReader(io.BytesIO(data)) as reader:
            return list(reader)
    except Exception as exc:  # noqa: BLE001 - scapy's own errors, whatever their class
        raise ProbeError(f"capture {path}: unreadable ({type(exc).__name__}: {exc})".splitlines()[0]) from None


# --- information elements -----------------------------------------------------------------------


def _elements(body: bytes) -> Iterator[tuple[int, bytes]]:
    """(element id, contents) of a sequence of information elements, up to the first one that
    does not fit (a truncated frame)."""
    offset = 0
    while offset + 2 <= len(body):
        eid, length = body[offset], body[offset + 1]
        if offset + 2 + length > len(body):
            return
        yield eid, body[offset + 2:offset + 2 + length]
        offset += 2 + length


def suite_name(oui: int, number: int, names: dict[int, str], native: int = OUI_IEEE) -> str:
    """The name of a cipher or AKM suite (``names`` for the element's own OUI ``native``), else
    ``"00-0f-ac:99"`` (an unknown number, or a vendor's suite)."""
    if oui == native and number in names:
        return names[number]
    return "-".join(f"{b:02x}" for b in oui.to_bytes(3, "big")) + f":{number}"


class Suites(NamedTuple):
    """What an RSN or WPA element announces (each list as far as the element goes)."""

    group: str
    pairwise: tuple[str, ...]
    akms: tuple[str, ...]
    capabilities: int


def parse_suites(body: bytes, *, wpa: bool = False) -> Suites:
    """The suites of an RSN element's contents (802.11-2020 9.4.2.24.1), or of a WPA vendor
    element's after its OUI and type (``wpa``). Every field after the version is optional: one
    left out takes the standard's default (CCMP and 802.1X for RSN, TKIP and 802.1X for WPA), a
    list cut short keeps the suites that fit."""
    names = (WPA_CIPHERS, WPA_AKMS, OUI_MICROSOFT) if wpa else (CIPHERS, AKMS, OUI_IEEE)
    ciphers, akms, native = names
    default_cipher = "TKIP" if wpa else "CCMP"

    def suite(offset: int, table: dict[int, str]) -> str:
        return suite_name(int.from_bytes(body[offset:offset + 3], "big"), body[offset + 3], table, native)

    def suite_list(offset: int, table: dict[int, str]) -> tuple[tuple[str, ...] | None, int]:
        if offset + 2 > len(body):
            return None, offset
        count = struct.unpack_from("<H", body, offset)[0]
        offset += 2
        found = []
        for _ in range(count):
            if offset + 4 > len(body):
                break
            found.append(suite(offset, table))
            offset += 4
        return tuple(found), offset

    group = suite(2, ciphers) if len(body) >= 6 else default_cipher
    pairwise, offset = suite_list(6, ciphers)
    akm_list, offset = suite_list(offset, akms)
    capabilities = struct.unpack_from("<H", body, offset)[0] if offset + 2 <= len(body) and not wpa else 0
    return Suites(group, (default_cipher,) if pairwise is None else pairwise,
                  ("802.1X",) if akm_list is None else akm_list, capabilities)


def _vendor(body: bytes) -> tuple[int, int]:
    """(OUI, type) of a vendor-specific element's contents, (0, -1) when too short."""
    if len(body) < 4:
        return 0, -1
    return int.from_bytes(body[:3], "big"), body[3]


def channel_of(frequency: int | None) -> int | None:
    """The channel number of a frequency in MHz (2.4, 5 and 6 GHz bands), None if unknown."""
    if not frequency:
        return None
    if frequency == 2484:
        return 14
    if 2412 <= frequency <= 2472:
        return (frequency - 2407) // 5
    if 5955 <= frequency <= 7115:
        return (frequency - 5950) // 5
    if 5000 <= frequency <= 5925:
        return (frequency - 5000) // 5
    return None


# --- what a BSS announces -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BssSecurity:
    """The security a BSS announces in a beacon or probe response.

    ``akms``, ``pairwise`` and ``group`` are the RSN element's, or the WPA element's when there is
    no RSN element (WPA only); ``wpa1_akms`` and ``wpa1_pairwise`` are the WPA element's whenever
    one is present (``wpa1``: WPA/WPA2 mixed mode when ``rsn`` too). ``mfp_capable`` and
    ``mfp_required`` are the RSN capabilities' bits 7 and 6 (PMF, 802.11w). ``hidden``: the beacon
    carried no SSID (``ssid`` then comes from a probe response, if one was seen). ``seen``: how
    many beacons and probe responses of this BSS were read."""

    bssid: str
    ssid: str
    channel: int | None
    privacy: bool
    akms: tuple[str, ...] = ()
    pairwise: tuple[str, ...] = ()
    group: str | None = None
    mfp_capable: bool = False
    mfp_required: bool = False
    rsn: bool = False
    wpa1: bool = False
    wpa1_akms: tuple[str, ...] = ()
    wpa1_pairwise: tuple[str, ...] = ()
    wps: bool = False
    hidden: bool = False
    seen: int = 1

    @property
    def kind(self) -> str:
        """"open", "wep" (privacy without RSN or WPA), "wpa" (the WPA element only), "owe",
        "enterprise" (802.1X AKMs only), "wpa3" (SAE only), "wpa2/wpa3" (transition: PSK and
        SAE) or "wpa2" (PSK)."""
        if not self.rsn:
            if self.wpa1:
                return "wpa"
            return "wep" if self.privacy else "open"
        akms = set(self.akms)
        psk, sae = bool(akms & PSK_AKMS), bool(akms & SAE_AKMS)
        if psk and sae:
            return "wpa2/wpa3"
        if sae:
            return "wpa3"
        if psk:
            return "wpa2"
        if akms and akms <= {"OWE"}:
            return "owe"
        if akms & ENTERPRISE_AKMS:
            return "enterprise"
        return "wpa2"

    @property
    def allows_tkip(self) -> bool:
        """TKIP is accepted, as a pairwise cipher (RSN or WPA element) or the group cipher."""
        return "TKIP" in self.pairwise or "TKIP" in self.wpa1_pairwise or self.group == "TKIP"

    def weak_reasons(self) -> list[tuple[str, str]]:
        """What is weak in this configuration, as (French, English) sentences; empty when
        nothing is."""
        kind, reasons = self.kind, []
        if kind == "open":
            reasons.append(("réseau ouvert : aucun chiffrement, tout le trafic se lit en clair",
                            "open network: no encryption, all traffic can be read"))
        if kind == "wep" or self.group in WEP_CIPHERS or WEP_CIPHERS & set(self.pairwise):
            reasons.append(("WEP : chiffrement cassé, la clé se retrouve en quelques minutes d'écoute",
                            "WEP: broken encryption, the key is recovered from minutes of traffic"))
        if self.wpa1:
            reasons.append(("WPA (première version) annoncé : norme obsolète de l'époque TKIP",
                            "WPA (first version) offered: an obsolete, TKIP-era standard"))
        if self.allows_tkip:
            reasons.append(("TKIP accepté : chiffrement obsolète et attaqué (Beck-Tews, Michael)",
                            "TKIP allowed: an obsolete cipher with known attacks (Beck-Tews, Michael)"))
        if self.wps:
            reasons.append(("WPS activé : le code PIN permet de retrouver la phrase de passe (force brute, Pixie Dust)",
                            "WPS enabled: its PIN gives the passphrase away (brute force, Pixie Dust)"))
        if kind == "wpa3" and not self.mfp_required:
            reasons.append(("WPA3 sans PMF obligatoire (802.11w) : la norme l'exige",
                            "WPA3 without PMF required (802.11w): the standard requires it"))
        if kind == "wpa2/wpa3":
            reasons.append(("mode de transition WPA2/WPA3 : un client peut être ramené à WPA2-PSK, attaquable",
                            "WPA2/WPA3 transition mode: a client can be downgraded to WPA2-PSK, open to offline attack"))
        if kind in ("wpa2", "wpa2/wpa3", "enterprise", "owe") and not self.mfp_capable:
            reasons.append(("PMF (802.11w) non proposé : les trames de gestion (désauthentification) se forgent",
                            "PMF (802.11w) not offered: management frames (deauthentication) can be forged"))
        return reasons

    def summary(self) -> str:
        """One line for a check's evidence."""
        ssid = repr(self.ssid) + (" (hidden)" if self.hidden else "")
        parts = [self.bssid, ssid, f"ch {self.channel}" if self.channel else "ch ?", self.kind]
        if self.akms:
            parts.append("AKM " + "+".join(self.akms))
        if self.pairwise:
            parts.append(f"cipher {'+'.join(self.pairwise)}/{self.group}")
        if self.rsn:
            parts.append("PMF required" if self.mfp_required else "PMF capable" if self.mfp_capable else "no PMF")
        if self.wpa1:
            parts.append("WPA1")
        if self.wps:
            parts.append("WPS")
        return " ".join(parts)


def parse_bss(packet: Any) -> BssSecurity | None:
    """The :class:`BssSecurity` of a beacon or probe response (a scapy packet), None for any
    other frame."""
    s = _scapy()
    layer = packet.getlayer(s.Dot11Beacon)
    if layer is None:
        layer = packet.getlayer(s.Dot11ProbeResp)
    if layer is None:
        return None
    body = bytes(layer)[12:]  # timestamp 8, interval 2, capabilities 2
    ssid, hidden, channel, ht_channel = None, False, None, None
    rsn = wpa = None
    wps = False
    for eid, data in _elements(body):
        if eid == 0 and ssid is None:
            hidden = not data.strip(b"\0")
            ssid = "" if hidden else data.decode("utf-8", errors="replace")
        elif eid == 3 and data and channel is None:
            channel = data[0]
        elif eid == 61 and data and ht_channel is None:
            ht_channel = data[0]
        elif eid == 48 and rsn is None and len(data) >= 2:
            rsn = parse_suites(data)
        elif eid == 221:
            oui, kind = _vendor(data)
            if oui == OUI_MICROSOFT and kind == WPA_ELEMENT_TYPE and wpa is None and len(data) >= 6:
                wpa = parse_suites(data[4:], wpa=True)
            elif oui == OUI_MICROSOFT and kind == WPS_ELEMENT_TYPE:
                wps = True
    if channel is None:
        channel = ht_channel
    if channel is None and packet.haslayer(s.RadioTap):
        channel = channel_of(getattr(packet[s.RadioTap], "ChannelFrequency", None))
    main = rsn or wpa
    return BssSecurity(
        bssid=str(packet[s.Dot11].addr3).lower(), ssid=ssid or "", channel=channel,
        privacy=bool(layer.cap.privacy), akms=main.akms if main else (),
        pairwise=main.pairwise if main else (), group=main.group if main else None,
        mfp_capable=bool(rsn and rsn.capabilities & 0x80), mfp_required=bool(rsn and rsn.capabilities & 0x40),
        rsn=rsn is not None, wpa1=wpa is not None, wpa1_akms=wpa.akms if wpa else (),
        wpa1_pairwise=wpa.pairwise if wpa else (), wps=wps, hidden=hidden or ssid is None)


def beacons(packets: Iterable[Any]) -> dict[str, BssSecurity]:
    """Every BSS heard in ``packets``, by BSSID: what its latest beacon or probe response
    announced, ``seen`` counting them all. A hidden SSID keeps the name a probe response gave."""
    found: dict[str, BssSecurity] = {}
    for packet in packets:
        bss = parse_bss(packet)
        if bss is None:
            continue
        before = found.get(bss.bssid)
        if before is not None:
            ssid = bss.ssid or before.ssid
            bss = dataclasses.replace(bss, ssid=ssid, hidden=bss.hidden or before.hidden, seen=before.seen + 1)
        found[bss.bssid] = bss
    return found


@dataclasses.dataclass(frozen=True)
class StationRequest:
    """What a station asked for in its latest (re)association request: the RSN element it sent
    (its chosen AKM and pairwise cipher, its PMF bits), to the BSSID it asked."""

    station: str
    bssid: str
    ssid: str
    akms: tuple[str, ...]
    pairwise: tuple[str, ...]
    group: str | None
    mfp_capable: bool
    mfp_required: bool
    rsn: bool


def association_requests(packets: Iterable[Any]) -> dict[str, StationRequest]:
    """The latest (re)association request of each station heard in ``packets``, by its MAC."""
    s = _scapy()
    found: dict[str, StationRequest] = {}
    for packet in packets:
        layer, skip = packet.getlayer(s.Dot11AssoReq), 4  # capabilities 2, listen interval 2
        if layer is None:
            layer, skip = packet.getlayer(s.Dot11ReassoReq), 10  # and the current AP's address
        if layer is None:
            continue
        ssid, rsn = "", None
        for eid, data in _elements(bytes(layer)[skip:]):
            if eid == 0 and not ssid:
                ssid = data.decode("utf-8", errors="replace")
            elif eid == 48 and rsn is None and len(data) >= 2:
                rsn = parse_suites(data)
        station = str(packet[s.Dot11].addr2).lower()
        found[station] = StationRequest(
            station, str(packet[s.Dot11].addr1).lower(), ssid, rsn.akms if rsn else (), rsn.pairwise if rsn else (),
            rsn.group if rsn else None, bool(rsn and rsn.capabilities & 0x80), bool(rsn and rsn.capabilities & 0x40),
            rsn is not None)
    return found


# --- 4-way handshakes ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Handshake:
    """A 4-way handshake between ``ap`` and ``sta`` (MAC addresses): the nonces, the key
    descriptor ``version`` (1 HMAC-MD5/RC4, 2 HMAC-SHA1/AES, 3 AES-CMAC; 0 when the AKM defines
    it, SAE and OWE), message 2's replay counter, MIC and EAPOL frame (``eapol``, its MIC zeroed:
    what the MIC covers), and the messages seen (1-4). ``akm`` and ``pairwise`` come from the RSN
    element message 2 carries (None when it carries none)."""

    ap: str
    sta: str
    anonce: bytes
    snonce: bytes
    version: int
    replay_counter: int
    mic: bytes
    eapol: bytes
    messages: tuple[int, ...]
    akm: str | None = None
    pairwise: str | None = None

    @property
    def complete(self) -> bool:
        """All four messages were seen."""
        return self.messages == (1, 2, 3, 4)

    @property
    def crackable(self) -> bool:
        """A dictionary attack applies: a PSK handshake of key descriptor version 1, 2 or 3 (not
        SAE's nor OWE's, whose PMK is no passphrase's, nor FT's, whose keys are derived apart)."""
        if self.version not in KEY_VERSIONS:
            return False
        return self.akm is None or self.akm in ("PSK", "PSK-SHA256")

    def summary(self) -> str:
        messages = "+".join(f"M{n}" for n in self.messages)
        return f"{self.ap} <-> {self.sta} {messages} version {self.version} ({KEY_VERSIONS.get(self.version, 'AKM-defined')})"


class _Key(NamedTuple):
    number: int
    ap: str
    sta: str
    replay_counter: int
    nonce: bytes
    version: int
    mic: bytes
    eapol: bytes
    key_data: bytes


def _message_number(key: Any) -> int:
    """1-4 for the messages of a 4-way handshake (802.11-2020 12.7.6), 0 for any other
    EAPOL-Key frame (group key handshake). Message 4 of WPA1 has no Secure bit: it is the one
    with no key data (message 2 carries the station's RSN or WPA element)."""
    if key.key_type != 1 or key.request or key.error:
        return 0
    if key.key_ack:
        if not key.has_key_mic:
            return 1
        return 3 if key.install else 0
    if not key.has_key_mic:
        return 0
    if key.secure or not key.key_data:
        return 4
    return 2


def _eapol_key(packet: Any) -> _Key | None:
    s = _scapy()
    if not packet.haslayer(s.EAPOL_KEY) or not packet.haslayer(s.Dot11):
        return None
    key, dot11 = packet[s.EAPOL_KEY], packet[s.Dot11]
    number = _message_number(key)
    if not number:
        return None
    frame = bytes(packet[s.EAPOL])
    frame = frame[:4 + struct.unpack_from("!H", frame, 2)[0]]  # the 802.1X length: padding left out
    if len(frame) < MIC_OFFSET + MIC_LENGTH:
        return None
    zeroed = frame[:MIC_OFFSET] + b"\0" * MIC_LENGTH + frame[MIC_OFFSET + MIC_LENGTH:]
    transmitter, receiver = str(dot11.addr2).lower(), str(dot11.addr1).lower()
    ap, sta = (transmitter, receiver) if number in (1, 3) else (receiver, transmitter)
    return _Key(number, ap, sta, int(key.key_replay_counter), bytes(key.key_nonce).ljust(32, b"\0")[:32],
                int(key.key_descriptor_type_version), frame[MIC_OFFSET:MIC_OFFSET + MIC_LENGTH], zeroed,
                bytes(key.key_data or b""))


def _station_suites(key_data: bytes) -> tuple[str | None, str | None]:
    """(AKM, pairwise cipher) of the RSN or WPA element in message 2's key data."""
    for eid, data in _elements(key_data):
        if eid == 48 and len(data) >= 2:
            suites = parse_suites(data)
            return suites.akms[0] if suites.akms else None, suites.pairwise[0] if suites.pairwise else None
        if eid == 221 and _vendor(data) == (OUI_MICROSOFT, WPA_ELEMENT_TYPE):
            suites = parse_suites(data[4:], wpa=True)
            return suites.akms[0] if suites.akms else None, suites.pairwise[0] if suites.pairwise else None
    return None, None


def handshakes(packets: Iterable[Any]) -> list[Handshake]:
    """The 4-way handshakes in ``packets``, in the order their message 2 came.

    Message 2 answers message 1 with the same replay counter (AP, station); without message 1, a
    message 3 whose replay counter is one more gives the ANonce. Message 3 joins the handshake
    of its ANonce, message 4 the one of its replay counter. A frame sent twice (802.11 retries)
    counts once."""
    found: list[Handshake] = []
    m1: dict[tuple[str, str, int], bytes] = {}  # (ap, sta, replay counter) -> ANonce
    orphans: dict[tuple[str, str], list[_Key]] = {}  # messages 2 whose message 1 was not heard
    m3_counter: dict[int, int] = {}  # index in found -> replay counter of its message 3

    def add(index: int, number: int) -> None:
        found[index] = dataclasses.replace(found[index], messages=tuple(sorted({*found[index].messages, number})))

    def new(m2: _Key, anonce: bytes, numbers: tuple[int, ...]) -> None:
        if any((h.ap, h.sta, h.anonce, h.snonce) == (m2.ap, m2.sta, anonce, m2.nonce) for h in found):
            return
        akm, pairwise = _station_suites(m2.key_data)
        found.append(Handshake(m2.ap, m2.sta, anonce, m2.nonce, m2.version, m2.replay_counter, m2.mic,
                               m2.eapol, numbers, akm, pairwise))

    for packet in packets:
        key = _eapol_key(packet)
        if key is None:
            continue
        pair = (key.ap, key.sta)
        if key.number == 1:
            m1[(*pair, key.replay_counter)] = key.nonce
        elif key.number == 2:
            anonce = m1.get((*pair, key.replay_counter))
            if anonce is not None:
                new(key, anonce, (1, 2))
            else:
                orphans.setdefault(pair, []).append(key)
        elif key.number == 3:
            matches = [i for i, h in enumerate(found) if (h.ap, h.sta, h.anonce) == (*pair, key.nonce)]
            if matches:
                add(matches[-1], 3)
                m3_counter[matches[-1]] = key.replay_counter
            for m2 in [m for m in orphans.get(pair, []) if m.replay_counter + 1 == key.replay_counter]:
                orphans[pair].remove(m2)
                new(m2, key.nonce, (2, 3))
                m3_counter[len(found) - 1] = key.replay_counter
        elif key.number == 4:
            for index in [i for i, h in enumerate(found) if (h.ap, h.sta) == pair]:
                if m3_counter.get(index) == key.replay_counter:
                    add(index, 4)
    return found


# --- SAE authentication -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SaeExchange:
    """The SAE authentication (WPA3) between ``ap`` and ``sta``: which commits and confirms each
    side sent with a success status, every status code seen in order, and the group of the
    first commit (19: NIST P-256). A PMK agreed by SAE cannot be attacked offline."""

    ap: str
    sta: str
    sta_commit: bool = False
    ap_commit: bool = False
    sta_confirm: bool = False
    ap_confirm: bool = False
    statuses: tuple[int, ...] = ()
    group: int | None = None

    @property
    def complete(self) -> bool:
        """Both sides committed and confirmed."""
        return self.sta_commit and self.ap_commit and self.sta_confirm and self.ap_confirm


def sae_exchanges(packets: Iterable[Any]) -> list[SaeExchange]:
    """The SAE authentications in ``packets`` (authentication frames of algorithm 3), one per
    (AP, station) pair, in the order they began. The AP is the frame's BSSID (address 3)."""
    s = _scapy()
    found: dict[tuple[str, str], SaeExchange] = {}
    for packet in packets:
        auth = packet.getlayer(s.Dot11Auth)
        if auth is None or auth.algo != SAE_ALGORITHM:
            continue
        dot11 = packet[s.Dot11]
        ap = str(dot11.addr3).lower()
        from_ap = str(dot11.addr2).lower() == ap
        sta = str(dot11.addr1 if from_ap else dot11.addr2).lower()
        exchange = found.get((ap, sta)) or SaeExchange(ap, sta)
        status, ok = int(auth.status), int(auth.status) in SAE_OK_STATUSES
        changes: dict[str, Any] = {"statuses": (*exchange.statuses, status)}
        side = "ap" if from_ap else "sta"
        if auth.seqnum == SAE_COMMIT and ok:
            changes[f"{side}_commit"] = True
            body = bytes(auth)[6:]
            if exchange.group is None and len(body) >= 2:
                changes["group"] = struct.unpack_from("<H", body)[0]
        elif auth.seqnum == SAE_CONFIRM and status == 0:
            changes[f"{side}_confirm"] = True
        found[(ap, sta)] = dataclasses.replace(exchange, **changes)
    return list(found.values())


# --- dictionary attack --------------------------------------------------------------------------


def passphrase_pmk(passphrase: str | bytes, ssid: str | bytes) -> bytes:
    """The PMK of a WPA passphrase: PBKDF2-HMAC-SHA1(passphrase, SSID, 4096, 32) (802.11-2020
    J.4.1)."""
    passphrase = passphrase.encode() if isinstance(passphrase, str) else passphrase
    ssid = ssid.encode() if isinstance(ssid, str) else ssid
    return hashlib.pbkdf2_hmac("sha1", passphrase, ssid, 4096, 32)


def prf_sha1(key: bytes, label: bytes, data: bytes, length: int) -> bytes:
    """The PRF of 802.11i (802.11-2020 12.7.1.2): ``length`` bytes of HMAC-SHA1(key, label || 0
    || data || i) for i = 0, 1..."""
    out = b""
    for i in range((length + 19) // 20):
        out += hmac.new(key, label + b"\0" + data + bytes([i]), hashlib.sha1).digest()
    return out[:length]


def kdf_sha256(key: bytes, label: bytes, context: bytes, bits: int) -> bytes:
    """The KDF of 802.11-2016 12.7.1.7.2 with SHA-256: HMAC-SHA256(key, i || label || context ||
    bits) for i = 1, 2..., i and bits as 16-bit little-endian numbers."""
    out = b""
    for i in range(1, (bits + 255) // 256 + 1):
        out += hmac.new(key, struct.pack("<H", i) + label + context + struct.pack("<H", bits), hashlib.sha256).digest()
    return out[:bits // 8]


def _mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", "").replace("-", ""))


def key_expansion_data(ap: str, sta: str, anonce: bytes, snonce: bytes) -> bytes:
    """min(AA, SPA) || max(AA, SPA) || min(ANonce, SNonce) || max(ANonce, SNonce)."""
    aa, spa = _mac_bytes(ap), _mac_bytes(sta)
    return min(aa, spa) + max(aa, spa) + min(anonce, snonce) + max(anonce, snonce)


def derive_ptk(pmk: bytes, ap: str, sta: str, anonce: bytes, snonce: bytes, version: int,
               pairwise: str | None = None) -> bytes:
    """The PTK ("Pairwise key expansion"): PRF-SHA1 for key descriptor versions 1 and 2 (512 bits
    for TKIP, else 384), KDF-SHA256 for version 3 (KCK 128 + KEK 128 + the pairwise cipher's TK
    bits). Its first 16 bytes are the KCK."""
    data = key_expansion_data(ap, sta, anonce, snonce)
    tk = TK_BYTES.get(pairwise or "", 32 if version == 1 else 16)
    if version in (1, 2):
        return prf_sha1(pmk, b"Pairwise key expansion", data, 32 + tk)
    if version == 3:
        return kdf_sha256(pmk, b"Pairwise key expansion", data, (32 + tk) * 8)
    raise ValueError(f"key descriptor version {version} has no PSK key expansion here")


def _aes_cmac(key: bytes, data: bytes) -> bytes:
    try:
        from cryptography.hazmat.primitives.ciphers import algorithms
        from cryptography.hazmat.primitives.cmac import CMAC
    except ImportError:
        raise ProbeError("key descriptor version 3 (AES-128-CMAC) needs the cryptography package, "
                         "which is not installed") from None
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def eapol_mic(kck: bytes, version: int, eapol: bytes) -> bytes:
    """The MIC of an EAPOL-Key frame (its MIC field zeroed): HMAC-MD5 (version 1), HMAC-SHA1
    truncated to 16 bytes (version 2), AES-128-CMAC (version 3)."""
    if version == 1:
        return hmac.new(kck, eapol, hashlib.md5).digest()
    if version == 2:
        return hmac.new(kck, eapol, hashlib.sha1).digest()[:MIC_LENGTH]
    if version == 3:
        return _aes_cmac(kck, eapol)
    raise ValueError(f"key descriptor version {version} has no MIC defined here")


def valid_passphrase(word: str) -> bool:
    """8 to 63 characters: what a WPA passphrase may be."""
    return PASSPHRASE_MIN <= len(word) <= PASSPHRASE_MAX


def crack(handshake: Handshake, ssid: str | bytes, words: Iterable[str]) -> str | None:
    """The passphrase among ``words`` whose PMK gives message 2's MIC, None if none does. Words
    that are no valid WPA passphrase (under 8 or over 63 characters) are skipped.

    Raises ValueError for a handshake no dictionary attack applies to (see
    :attr:`Handshake.crackable`), :class:`~tspcr_lab.errors.ProbeError` when version 3's AES-CMAC
    is not available."""
    if not handshake.crackable:
        raise ValueError(f"no dictionary attack on this handshake (key descriptor version {handshake.version}, "
                         f"AKM {handshake.akm}): its PMK does not come from a passphrase alone")
    if handshake.version == 3:
        _aes_cmac(b"\0" * 16, b"")  # ProbeError now rather than after the first PBKDF2
    for word in words:
        if not valid_passphrase(word):
            continue
        pmk = passphrase_pmk(word, ssid)
        kck = derive_ptk(pmk, handshake.ap, handshake.sta, handshake.anonce, handshake.snonce,
                         handshake.version, handshake.pairwise)[:16]
        if hmac.compare_digest(eapol_mic(kck, handshake.version, handshake.eapol), handshake.mic):
            return word
    return None


def load_wordlist(path: str | Path | None = None) -> list[str]:
    """The passphrases of a word list, one a line (blank lines skipped; a line that is not UTF-8
    is read as Latin-1), by default the packaged list of common weak ones. A file that cannot be
    read is a :class:`~tspcr_lab.errors.ProbeError`."""
    try:
        if path is None:
            from importlib import resources

            resource = resources.files("tspcr_lab")
            for part in WORDLIST:
                resource = resource.joinpath(part)
            data = resource.read_bytes()
        else:
            data = Path(path).read_bytes()
    except OSError as exc:
        raise ProbeError(f"word list {path or '/'.join(WORDLIST)}: cannot be read ({exc.strerror or exc})") from None
    words = []
    for line in data.splitlines():
        try:
            word = line.decode("utf-8")
        except UnicodeDecodeError:
            word = line.decode("latin-1")
        if word.strip():
            words.append(word)
    return words


def passphrase_weakness(passphrase: str, words: Iterable[str], *, ssid: str | None = None) -> tuple[str, str] | None:
    """Why ``passphrase`` is weak, as (French, English), or None: not a valid WPA passphrase, in
    ``words`` (case aside, also with digits or symbols added at its end), the SSID, fewer than
    five different characters, only digits under 12 characters, or under 12 characters of a
    single class (lower case, upper case, digits, others)."""
    lowered = passphrase.lower()
    known = {w.lower() for w in words}
    stem = lowered.rstrip("0123456789!?.*_-@#$ ")
    if not valid_passphrase(passphrase):
        return (f"{len(passphrase)} caractères : une phrase de passe WPA en a de 8 à 63",
                f"{len(passphrase)} characters: a WPA passphrase has 8 to 63")
    if lowered in known or (stem != lowered and stem in known):
        return ("phrase de passe d'une liste de mots de passe courants", "a passphrase from a list of common passwords")
    if ssid and (lowered == ssid.lower() or stem == ssid.lower()):
        return ("phrase de passe tirée du nom du réseau (SSID)", "a passphrase made of the network's name (SSID)")
    if len(set(lowered)) < 5:
        return ("trop peu de caractères différents", "too few different characters")
    if passphrase.isdigit() and len(passphrase) < 12:
        return ("moins de 12 chiffres et rien d'autre", "fewer than 12 characters, digits only")
    classes = {"lower" if c.islower() else "upper" if c.isupper() else "digit" if c.isdigit() else "other"
               for c in passphrase}
    if len(passphrase) < 12 and len(classes) == 1:
        return ("moins de 12 caractères d'une seule sorte", "fewer than 12 characters, all of one kind")
    return None


def passphrase_is_weak(passphrase: str, words: Iterable[str], *, ssid: str | None = None) -> bool:
    """``passphrase`` is weak (:func:`passphrase_weakness` finds a reason): what can be judged
    where no handshake can be attacked, SAE's."""
    return passphrase_weakness(passphrase, words, ssid=ssid) is not None
