"""802.11 captures of the wifi-security lab, without a radio: beacons built with scapy for each
kind of network (open, WEP, WPA1, WPA2 with and without PMF, WPA3, transition, WPS) written to a
pcap and read back; the key derivation checked against the test vectors of IEEE 802.11i-2004
Annex H and RFC 4493; synthetic 4-way handshakes of known passphrases cracked (and checked
against aircrack-ng where it is installed); SAE exchanges; captures that are no capture."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from scapy.layers.dot11 import (
    AKMSuite,
    Dot11,
    Dot11Auth,
    Dot11Beacon,
    Dot11Elt,
    Dot11EltDSSSet,
    Dot11EltMicrosoftWPA,
    Dot11EltRates,
    Dot11EltRSN,
    Dot11EltVendorSpecific,
    Dot11FCS,
    Dot11ProbeResp,
    Dot11QoS,
    RadioTap,
    RSNCipherSuite,
)
from scapy.layers.eap import EAPOL, EAPOL_KEY
from scapy.layers.l2 import LLC, SNAP, Ether
from scapy.packet import Raw
from scapy.utils import wrpcap, wrpcapng

from tspcr_lab.errors import ProbeError
from tspcr_lab.probes import wifi
from tspcr_lab.probes.wifi import (
    BssSecurity,
    beacons,
    crack,
    derive_ptk,
    eapol_mic,
    handshakes,
    kdf_sha256,
    load_wordlist,
    passphrase_is_weak,
    passphrase_pmk,
    passphrase_weakness,
    prf_sha1,
    read_capture,
    sae_exchanges,
)

REPO = Path(__file__).resolve().parents[2]
AP, STA, STA2 = "02:00:00:00:01:00", "02:00:00:00:02:00", "02:00:00:00:03:00"
BROADCAST = "ff:ff:ff:ff:ff:ff"
MS = 0x0050F2  # the OUI of the WPA and WPS vendor elements
ANONCE = bytes(range(0x10, 0x30))
SNONCE = bytes(range(0x80, 0xA0))


# --- beacons ------------------------------------------------------------------------------------


def rsn(akms=(2,), pairwise=(4,), group=4, mfpc=0, mfpr=0) -> Dot11EltRSN:
    return Dot11EltRSN(group_cipher_suite=RSNCipherSuite(cipher=group),
                       pairwise_cipher_suites=[RSNCipherSuite(cipher=c) for c in pairwise],
                       akm_suites=[AKMSuite(suite=a) for a in akms], mfp_capable=mfpc, mfp_required=mfpr)


def wpa_element(pairwise=(2,), group=2, akm=2) -> Dot11EltMicrosoftWPA:
    return Dot11EltMicrosoftWPA(group_cipher_suite=RSNCipherSuite(oui=MS, cipher=group),
                                pairwise_cipher_suites=[RSNCipherSuite(oui=MS, cipher=c) for c in pairwise],
                                akm_suites=[AKMSuite(oui=MS, suite=akm)])


def wps_element() -> Dot11EltVendorSpecific:
    # type 4, then WPS attributes: version 1.0, Wi-Fi Protected Setup state "configured"
    return Dot11EltVendorSpecific(oui=MS, info=b"\x04" + bytes.fromhex("104a000110" "1044000102"))


def beacon(ssid: bytes, *elements, bssid=AP, cap="ESS", channel=6, frame=Dot11Beacon, radiotap=None):
    subtype = 8 if frame is Dot11Beacon else 5
    packet = ((radiotap or RadioTap()) / Dot11(type=0, subtype=subtype, addr1=BROADCAST if subtype == 8 else STA,
                                               addr2=bssid, addr3=bssid)
              / frame(cap=cap) / Dot11Elt(ID="SSID", info=ssid)
              / Dot11EltRates(rates=[0x82, 0x84, 0x8B, 0x96, 0x0C, 0x12, 0x18, 0x24]))
    if channel is not None:
        packet = packet / Dot11EltDSSSet(channel=channel)
    for element in elements:
        packet = packet / element
    return packet


OPEN = {"privacy": False, "akms": (), "pairwise": (), "group": None, "rsn": False, "wpa1": False, "wps": False}
NO_PMF = {"mfp_capable": False, "mfp_required": False}
NETWORKS = {  # bssid: (beacon, expected fields, expected kind)
    "02:00:00:00:00:01": (beacon(b"lab-open", bssid="02:00:00:00:00:01", channel=1),
                          {"ssid": "lab-open", "channel": 1, **OPEN, **NO_PMF}, "open"),
    "02:00:00:00:00:02": (beacon(b"lab-wep", bssid="02:00:00:00:00:02", cap="ESS+privacy", channel=2),
                          {"ssid": "lab-wep", "channel": 2, **OPEN, "privacy": True}, "wep"),
    "02:00:00:00:00:03": (beacon(b"lab-wpa1", wpa_element(), bssid="02:00:00:00:00:03", cap="ESS+privacy", channel=3),
                          {"ssid": "lab-wpa1", "channel": 3, "privacy": True, "akms": ("PSK",), "pairwise": ("TKIP",),
                           "group": "TKIP", "rsn": False, "wpa1": True, "wpa1_akms": ("PSK",), "wpa1_pairwise": ("TKIP",),
                           "wps": False, **NO_PMF}, "wpa"),
    "02:00:00:00:00:04": (beacon(b"lab-wpa2", rsn(), bssid="02:00:00:00:00:04", cap="ESS+privacy", channel=4),
                          {"ssid": "lab-wpa2", "channel": 4, "privacy": True, "akms": ("PSK",), "pairwise": ("CCMP",),
                           "group": "CCMP", "rsn": True, "wpa1": False, "wps": False, **NO_PMF}, "wpa2"),
    "02:00:00:00:00:05": (beacon(b"lab-wpa2-pmf", rsn(mfpc=1), bssid="02:00:00:00:00:05", cap="ESS+privacy", channel=5),
                          {"akms": ("PSK",), "pairwise": ("CCMP",), "group": "CCMP", "mfp_capable": True,
                           "mfp_required": False}, "wpa2"),
    "02:00:00:00:00:06": (beacon(b"lab-wpa3", rsn(akms=(8,), mfpc=1, mfpr=1), bssid="02:00:00:00:00:06",
                                 cap="ESS+privacy", channel=11),
                          {"ssid": "lab-wpa3", "channel": 11, "akms": ("SAE",), "pairwise": ("CCMP",), "mfp_capable": True,
                           "mfp_required": True, "wpa1": False, "wps": False}, "wpa3"),
    "02:00:00:00:00:07": (beacon(b"lab-transition", rsn(akms=(2, 8), mfpc=1), bssid="02:00:00:00:00:07",
                                 cap="ESS+privacy", channel=13),
                          {"akms": ("PSK", "SAE"), "pairwise": ("CCMP",), "mfp_capable": True, "mfp_required": False},
                          "wpa2/wpa3"),
    "02:00:00:00:00:08": (beacon(b"lab-wps", rsn(mfpc=1), wps_element(), bssid="02:00:00:00:00:08", cap="ESS+privacy"),
                          {"akms": ("PSK",), "wps": True, "mfp_capable": True, "wpa1": False}, "wpa2"),
}


@pytest.fixture(scope="module")
def networks(tmp_path_factory) -> dict[str, BssSecurity]:
    path = tmp_path_factory.mktemp("beacons") / "beacons.pcap"
    wrpcap(str(path), [frame for frame, _, _ in NETWORKS.values()])
    return beacons(read_capture(path))


def test_every_beacon_is_read_back(networks):
    assert sorted(networks) == sorted(NETWORKS)


@pytest.mark.parametrize("bssid", sorted(NETWORKS))
def test_beacon_fields(networks, bssid):
    _, fields, kind = NETWORKS[bssid]
    bss = networks[bssid]
    assert bss.bssid == bssid and bss.seen == 1 and not bss.hidden
    assert {name: getattr(bss, name) for name in fields} == fields
    assert bss.kind == kind


def test_weak_reasons_of_each_network(networks):
    def english(bssid):
        return " | ".join(en for _fr, en in networks[bssid].weak_reasons())

    assert "open network" in english("02:00:00:00:00:01")
    assert "WEP" in english("02:00:00:00:00:02")
    wpa1 = english("02:00:00:00:00:03")
    assert "WPA (first version)" in wpa1 and "TKIP allowed" in wpa1
    assert networks["02:00:00:00:00:03"].allows_tkip
    assert english("02:00:00:00:00:04") == "PMF (802.11w) not offered: management frames (deauthentication) can be forged"
    assert networks["02:00:00:00:00:05"].weak_reasons() == []  # WPA2-PSK, CCMP, PMF capable
    assert networks["02:00:00:00:00:06"].weak_reasons() == []  # WPA3-SAE, PMF required
    assert "transition mode" in english("02:00:00:00:00:07")
    assert english("02:00:00:00:00:08").startswith("WPS enabled")
    for bssid in NETWORKS:
        assert all(fr and en and fr != en for fr, en in networks[bssid].weak_reasons())
        if bssid != "02:00:00:00:00:03":
            assert not networks[bssid].allows_tkip


def test_kinds_agree_with_scapys_own_summary(networks):
    """scapy's network_stats() reads the same beacons apart: the two readings agree."""
    scapy_names = {"open": "OPN", "wep": "WEP", "wpa": "WPA/PSK", "wpa3": "WPA3/SAE", "wpa2/wpa3": "WPA3-transition/PSK"}
    for bssid, (frame, _, kind) in NETWORKS.items():
        stats = RadioTap(bytes(frame))[Dot11Beacon].network_stats()
        assert networks[bssid].ssid == stats["ssid"] and networks[bssid].channel == stats["channel"]
        if kind in scapy_names:
            assert stats["crypto"] == {scapy_names[kind]}, bssid
        elif bssid in ("02:00:00:00:00:04",):
            assert stats["crypto"] == {"WPA2/PSK"}


def test_wpa3_without_pmf_required_and_mixed_wpa_wpa2(tmp_path):
    frames = [beacon(b"bad-wpa3", rsn(akms=(8,), mfpc=1, mfpr=0), cap="ESS+privacy"),
              beacon(b"mixed", rsn(pairwise=(2, 4), group=2), wpa_element(pairwise=(2, 4)), bssid=STA, cap="ESS+privacy")]
    found = beacons(frames)
    wpa3 = found[AP]
    assert wpa3.kind == "wpa3" and not wpa3.mfp_required
    assert any("PMF required" in en for _, en in wpa3.weak_reasons())
    mixed = found[STA]
    assert mixed.kind == "wpa2" and mixed.wpa1 and mixed.rsn and mixed.allows_tkip
    assert mixed.pairwise == ("TKIP", "CCMP") and mixed.group == "TKIP" and mixed.wpa1_pairwise == ("TKIP", "CCMP")


def test_enterprise_owe_and_unknown_suites():
    found = beacons([
        beacon(b"corp", rsn(akms=(1,), mfpc=1), bssid="02:00:00:00:00:0a", cap="ESS+privacy"),
        beacon(b"owe", rsn(akms=(18,), mfpc=1, mfpr=1), bssid="02:00:00:00:00:0b", cap="ESS+privacy"),
        beacon(b"odd", Dot11EltRSN(group_cipher_suite=RSNCipherSuite(cipher=99),
                                   pairwise_cipher_suites=[RSNCipherSuite(cipher=4), RSNCipherSuite(oui=0x001018, cipher=1)],
                                   akm_suites=[AKMSuite(suite=99), AKMSuite(suite=6), AKMSuite(suite=9)]),
               bssid="02:00:00:00:00:0c", cap="ESS+privacy"),
    ])
    assert found["02:00:00:00:00:0a"].kind == "enterprise" and found["02:00:00:00:00:0a"].akms == ("802.1X",)
    assert found["02:00:00:00:00:0b"].kind == "owe" and found["02:00:00:00:00:0b"].weak_reasons() == []
    odd = found["02:00:00:00:00:0c"]
    assert odd.group == "00-0f-ac:99" and odd.pairwise == ("CCMP", "00-10-18:1")
    assert odd.akms == ("00-0f-ac:99", "PSK-SHA256", "FT-SAE") and odd.kind == "wpa2/wpa3"


def test_short_rsn_element_keeps_the_rest_of_the_beacon():
    """An RSN element with its version and group cipher only (the rest is optional, 802.11-2020
    9.4.2.24.1): the defaults apply (CCMP, 802.1X) and the elements after it are still read."""
    frame = beacon(b"short", Raw(bytes([48, 6, 1, 0, 0x00, 0x0F, 0xAC, 4])), wps_element(), channel=None, cap="ESS+privacy")
    frame = frame / Dot11EltDSSSet(channel=9)
    bss = beacons([RadioTap(bytes(frame))])[AP]
    assert (bss.group, bss.pairwise, bss.akms, bss.mfp_capable) == ("CCMP", ("CCMP",), ("802.1X",), False)
    assert bss.channel == 9 and bss.wps and bss.kind == "enterprise"


def test_truncated_beacon_body_does_not_crash():
    frame = bytes(beacon(b"cut", rsn(akms=(2, 8), mfpc=1), cap="ESS+privacy"))
    for cut in range(len(frame) - 1, 30, -7):
        bss = beacons([RadioTap(frame[:cut])]).get(AP)
        assert bss is None or isinstance(bss.kind, str)


def test_hidden_ssid_probe_response_latest_and_count():
    hidden = beacon(b"", rsn(), cap="ESS+privacy")
    answer = beacon(b"lab-hidden", rsn(), cap="ESS+privacy", frame=Dot11ProbeResp)
    upgraded = beacon(b"\0" * 10, rsn(akms=(8,), mfpc=1, mfpr=1), cap="ESS+privacy")
    found = beacons([hidden, hidden, answer, upgraded])
    bss = found[AP]
    assert bss.seen == 4 and bss.hidden and bss.ssid == "lab-hidden"
    assert bss.kind == "wpa3"  # the latest frame's configuration
    assert "(hidden)" in bss.summary() and "lab-hidden" in bss.summary()


def test_channel_from_radiotap_and_frames_with_fcs():
    tap = RadioTap(present="Flags+Channel", Flags="FCS", ChannelFrequency=5180, ChannelFlags="OFDM+5GHz")
    frame = (tap / Dot11FCS(type=0, subtype=8, addr1=BROADCAST, addr2=AP, addr3=AP) / Dot11Beacon(cap="ESS+privacy")
             / Dot11Elt(ID="SSID", info=b"five") / rsn(mfpc=1))
    parsed = RadioTap(bytes(frame))
    assert parsed.haslayer(Dot11FCS)
    bss = beacons([parsed])[AP]
    assert (bss.ssid, bss.channel, bss.akms, bss.mfp_capable) == ("five", 36, ("PSK",), True)
    assert wifi.channel_of(2412) == 1 and wifi.channel_of(2484) == 14 and wifi.channel_of(5955) == 1
    assert wifi.channel_of(None) is None and wifi.channel_of(900) is None


def test_frames_other_than_beacons_are_ignored():
    assert beacons([Ether() / Raw(b"x"), RadioTap() / Dot11(type=2, addr1=AP, addr2=STA, addr3=AP)]) == {}


# --- key derivation, against published vectors ---------------------------------------------------


@pytest.mark.parametrize("passphrase, ssid, pmk", [  # IEEE 802.11i-2004 H.4.1
    ("password", "IEEE", "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"),
    ("ThisIsAPassword", "ThisIsASSID", "0dc0d6eb90555ed6419756b9a15ec3e3209b63df707dd508d14581f8982721af"),
    ("a" * 32, "Z" * 32, "becb93866bb8c3832cb777c2f559807c8c59afcb6eae734885001300a981cc62"),
])
def test_pmk_vectors(passphrase, ssid, pmk):
    assert passphrase_pmk(passphrase, ssid).hex() == pmk
    assert passphrase_pmk(passphrase.encode(), ssid.encode()).hex() == pmk


@pytest.mark.parametrize("key, data, output", [  # IEEE 802.11i-2004 H.3.2, prefix "prefix", 512 bits
    (b"\x0b" * 20, b"Hi There",
     ("bcd4c650b30b9684951829e0d75f9d54b862175ed9f00606e17d8da35402ffee"
      "75df78c3d31e0f889f012120c0862beb67753e7439ae242edb8373698356cf5a")),
    (b"Jefe", b"what do ya want for nothing?",
     ("51f4de5b33f249adf81aeb713a3c20f4fe631446fabdfa58244759ae58ef9009"
      "a99abf4eac2ca5fa87e692c440eb40023e7babb206d61de7b92f41529092b8fc")),
    (b"\xaa" * 20, b"\xdd" * 50,
     ("e1ac546ec4cb636f9976487be5c86be17a0252ca5d8d8df12cfb0473525249ce"
      "9dd8d177ead710bc9b590547239107aef7b4abd43d87f0a68f1cbd9e2b6f7607")),
])
def test_prf_vectors(key, data, output):
    assert prf_sha1(key, b"prefix", data, 64).hex() == output
    assert prf_sha1(key, b"prefix", data, 16).hex() == output[:32]


def test_mic_primitives_vectors():
    # HMAC-MD5 and HMAC-SHA1: RFC 2202 test case 1; AES-CMAC: RFC 4493 example 2
    assert eapol_mic(b"\x0b" * 16, 1, b"Hi There").hex() == "9294727a3638bb1c13f48ef8158bfc9d"
    assert eapol_mic(b"\x0b" * 20, 2, b"Hi There").hex() == "b617318655057264e28bc0b6fb378c8e"
    key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    assert eapol_mic(key, 3, bytes.fromhex("6bc1bee22e409f96e93d7e117393172a")).hex() == "070a16b46b4d4144f79bdd9dd04a287c"
    with pytest.raises(ValueError):
        eapol_mic(key, 0, b"")


def test_kdf_sha256_layout():
    """802.11-2016 12.7.1.7.2: HMAC-SHA256(K, i || label || context || length), i and the length
    in bits as 16-bit little-endian numbers, i from 1."""
    import hashlib
    import hmac

    out = kdf_sha256(b"k" * 32, b"label", b"context", 384)
    first = hmac.new(b"k" * 32, b"\x01\x00label" + b"context" + b"\x80\x01", hashlib.sha256).digest()
    second = hmac.new(b"k" * 32, b"\x02\x00label" + b"context" + b"\x80\x01", hashlib.sha256).digest()
    assert out == (first + second)[:48]
    assert kdf_sha256(b"k" * 32, b"label", b"context", 256) != out[:32]  # the length is in the input


def test_ptk_orders_addresses_and_nonces():
    pmk = passphrase_pmk("password", "IEEE")
    assert derive_ptk(pmk, AP, STA, ANONCE, SNONCE, 2) == derive_ptk(pmk, STA, AP, SNONCE, ANONCE, 2)
    assert len(derive_ptk(pmk, AP, STA, ANONCE, SNONCE, 2)) == 48
    assert len(derive_ptk(pmk, AP, STA, ANONCE, SNONCE, 1)) == 64  # TKIP
    assert derive_ptk(pmk, AP, STA, ANONCE, SNONCE, 3)[:16] != derive_ptk(pmk, AP, STA, ANONCE, SNONCE, 2)[:16]


# --- 4-way handshakes ---------------------------------------------------------------------------


def eapol_frame(number: int, ap: str, sta: str, *, nonce: bytes, replay: int, version: int, kck: bytes | None,
                key_data: bytes = b"", descriptor: int = 2, qos: bool = False):
    """Message ``number`` of a 4-way handshake, its MIC computed with ``kck`` (none for M1)."""
    flags = {1: {"key_ack": 1, "has_key_mic": 0},
             2: {"has_key_mic": 1},
             3: {"key_ack": 1, "has_key_mic": 1, "install": 1, "secure": 1, "encrypted_key_data": 1},
             4: {"has_key_mic": 1, "secure": 1}}[number]
    if number in (1, 3):
        dot11 = Dot11(type=2, subtype=0, FCfield="from_DS", addr1=sta, addr2=ap, addr3=ap)
    else:
        dot11 = Dot11(type=2, subtype=0, FCfield="to_DS", addr1=ap, addr2=sta, addr3=ap)
    if qos:  # QoS data, as mac80211 sends EAPOL frames to a QoS station
        dot11.subtype = 8
        dot11 = dot11 / Dot11QoS(TID=7)
    key = EAPOL_KEY(key_descriptor_type=descriptor, key_type=1, key_descriptor_type_version=version, key_length=16,
                    key_replay_counter=replay, key_nonce=nonce, key_mic=b"\0" * 16, key_data=key_data, **flags)
    eapol = EAPOL(version=2, type=3) / key
    if kck is not None:
        eapol[EAPOL_KEY].key_mic = eapol_mic(kck, version, bytes(eapol))
    return RadioTap() / dot11 / LLC() / SNAP() / eapol


def handshake_frames(passphrase: str, ssid: str, *, version: int = 2, akm: int = 2, sta: str = STA,
                     replay: int = 1, anonce: bytes = ANONCE, snonce: bytes = SNONCE, messages=(1, 2, 3, 4),
                     qos: bool = False):
    ptk = derive_ptk(passphrase_pmk(passphrase, ssid), AP, sta, anonce, snonce, version)
    kck = ptk[:16]
    if version == 1:  # WPA1: the station's WPA element, descriptor 254
        station = bytes(wpa_element())
        descriptor = 254
    else:
        station = bytes(rsn(akms=(akm,), mfpc=1 if akm == 6 else 0))
        descriptor = 2
    frames = {1: eapol_frame(1, AP, sta, nonce=anonce, replay=replay, version=version, kck=None, descriptor=descriptor, qos=qos),
              2: eapol_frame(2, AP, sta, nonce=snonce, replay=replay, version=version, kck=kck, key_data=station,
                             descriptor=descriptor, qos=qos),
              3: eapol_frame(3, AP, sta, nonce=anonce, replay=replay + 1, version=version, kck=kck, key_data=b"\x5a" * 56,
                             descriptor=descriptor, qos=qos),
              4: eapol_frame(4, AP, sta, nonce=b"\0" * 32, replay=replay + 1, version=version, kck=kck,
                             descriptor=descriptor, qos=qos)}
    return [frames[n] for n in messages]


def capture(tmp_path: Path, frames, name="handshake.pcap", ssid=b"lab-psk", akm=2) -> Path:
    path = tmp_path / name
    mfp = {"mfpc": 1, "mfpr": 1} if akm == 6 else {}
    wrpcap(str(path), [beacon(ssid, rsn(akms=(akm,), **mfp), cap="ESS+privacy"), *frames])
    return path


PASSPHRASE = "correct-horse-42"


def test_complete_handshake_is_paired_and_cracked(tmp_path):
    path = capture(tmp_path, handshake_frames(PASSPHRASE, "lab-psk"))
    found = handshakes(read_capture(path))
    assert len(found) == 1
    hs = found[0]
    assert (hs.ap, hs.sta, hs.anonce, hs.snonce, hs.version) == (AP, STA, ANONCE, SNONCE, 2)
    assert hs.messages == (1, 2, 3, 4) and hs.complete and hs.crackable
    assert (hs.akm, hs.pairwise, hs.replay_counter) == ("PSK", "CCMP", 1)
    assert hs.eapol[81:97] == b"\0" * 16 and len(hs.mic) == 16 and hs.mic != b"\0" * 16
    words = ["password", "short", "12345678", PASSPHRASE, "x" * 64]
    assert crack(hs, "lab-psk", words) == PASSPHRASE
    assert crack(hs, b"lab-psk", words) == PASSPHRASE
    assert crack(hs, "lab-psk", ["password", "12345678"]) is None
    assert crack(hs, "other-ssid", words) is None  # the SSID salts the PMK
    assert crack(hs, "lab-psk", load_wordlist()) is None


def test_qos_data_frames_with_fcs(tmp_path):
    """mac80211 sends EAPOL frames as QoS data; a radiotap FCS flag adds a frame check sequence."""
    frames = []
    for frame in handshake_frames(PASSPHRASE, "lab-psk", qos=True):
        body = bytes(frame[Dot11])
        fcs = zlib.crc32(body).to_bytes(4, "little")
        frames.append(RadioTap(bytes(RadioTap(present="Flags", Flags="FCS")) + body + fcs))
    assert all(f.haslayer(Dot11FCS) and f.haslayer(Dot11QoS) for f in frames)
    hs = handshakes(read_capture(capture(tmp_path, frames)))[0]
    assert hs.complete and crack(hs, "lab-psk", [PASSPHRASE]) == PASSPHRASE


def test_a_changed_byte_of_m2_is_not_cracked(tmp_path):
    frames = handshake_frames(PASSPHRASE, "lab-psk")
    m2 = bytearray(bytes(frames[1]))
    m2[-5] ^= 0x01  # a byte of its key data (the station's RSN element), after the MIC was computed
    frames[1] = RadioTap(bytes(m2))
    hs = handshakes(read_capture(capture(tmp_path, frames)))[0]
    assert hs.messages == (1, 2, 3, 4)
    assert crack(hs, "lab-psk", [PASSPHRASE]) is None


def test_packaged_passphrase_is_cracked_with_the_packaged_list(tmp_path):
    hs = handshakes(handshake_frames("motdepasse", "lab-psk"))[0]
    assert crack(hs, "lab-psk", load_wordlist()) == "motdepasse"


@pytest.mark.parametrize("version, akm", [(1, 2), (3, 6)])
def test_other_key_descriptor_versions(version, akm):
    hs = handshakes(handshake_frames(PASSPHRASE, "lab-psk", version=version, akm=akm))[0]
    assert hs.version == version and hs.complete and hs.crackable
    assert hs.akm == ("PSK" if version == 1 else "PSK-SHA256")
    assert crack(hs, "lab-psk", ["password", PASSPHRASE]) == PASSPHRASE
    assert crack(hs, "lab-psk", ["password"]) is None


def test_partial_handshakes():
    only_12 = handshakes(handshake_frames(PASSPHRASE, "lab-psk", messages=(1, 2)))
    assert [h.messages for h in only_12] == [(1, 2)] and not only_12[0].complete
    assert crack(only_12[0], "lab-psk", [PASSPHRASE]) == PASSPHRASE
    only_23 = handshakes(handshake_frames(PASSPHRASE, "lab-psk", messages=(2, 3)))
    assert [h.messages for h in only_23] == [(2, 3)] and only_23[0].anonce == ANONCE  # ANonce from M3
    assert crack(only_23[0], "lab-psk", [PASSPHRASE]) == PASSPHRASE
    assert handshakes(handshake_frames(PASSPHRASE, "lab-psk", messages=(1, 3, 4))) == []  # no M2: nothing to attack
    assert handshakes(handshake_frames(PASSPHRASE, "lab-psk", messages=(2,))) == []
    group_key = handshake_frames(PASSPHRASE, "lab-psk", messages=(3,))[0]  # a group key handshake's
    group_key[EAPOL_KEY].key_type, group_key[EAPOL_KEY].install = 0, 0  # message 1: no pairwise key
    group_rekey = handshake_frames(PASSPHRASE, "lab-psk", messages=(3,))[0]
    group_rekey[EAPOL_KEY].install = 0  # acknowledged, with a MIC, nothing installed: not a message 3
    frames = handshake_frames(PASSPHRASE, "lab-psk", messages=(1, 2)) + [group_key, group_rekey]
    assert [h.messages for h in handshakes(frames)] == [(1, 2)]


def test_replay_counters_retries_and_two_stations():
    frames = handshake_frames(PASSPHRASE, "lab-psk", messages=(1,), replay=1)  # unanswered
    frames += handshake_frames(PASSPHRASE, "lab-psk", messages=(1, 2, 2, 3, 4), replay=2)  # M2 retried
    frames += handshake_frames("another-pass-7", "lab-psk", sta=STA2, messages=(1, 2), anonce=SNONCE, snonce=ANONCE)
    stray = handshake_frames(PASSPHRASE, "lab-psk", messages=(2,), replay=9, snonce=b"\x77" * 32)  # answers no M1
    found = handshakes(frames + stray)
    assert [(h.sta, h.messages, h.replay_counter) for h in found] == [(STA, (1, 2, 3, 4), 2), (STA2, (1, 2), 1)]
    assert crack(found[1], "lab-psk", [PASSPHRASE, "another-pass-7"]) == "another-pass-7"
    assert "M1+M2+M3+M4" in found[0].summary()


def test_sae_handshake_is_not_crackable():
    frames = handshake_frames(PASSPHRASE, "lab-sae", version=2, akm=8)
    for frame in frames:
        frame[EAPOL_KEY].key_descriptor_type_version = 0  # SAE: the AKM defines the algorithms
    hs = handshakes([RadioTap(bytes(f)) for f in frames])[0]
    assert hs.akm == "SAE" and hs.version == 0 and not hs.crackable
    with pytest.raises(ValueError, match="no dictionary attack"):
        crack(hs, "lab-sae", [PASSPHRASE])


def aircrack(tmp_path: Path, path: Path, words: list[str]) -> str:
    wordfile = tmp_path / "words.txt"
    wordfile.write_text("\n".join(words) + "\n")
    result = subprocess.run(["aircrack-ng", "-q", "-w", str(wordfile), "-b", AP, str(path)],
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)
    return result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("aircrack-ng") is None, reason="aircrack-ng is not installed (apt-get install aircrack-ng)")
@pytest.mark.parametrize("version, akm", [(2, 2), (1, 2), (3, 6)])
def test_aircrack_finds_the_same_key(tmp_path, version, akm):
    """The synthetic capture is one aircrack-ng reads as a real one: the same passphrase comes
    out of it, and nothing out of a list without it."""
    path = capture(tmp_path, handshake_frames(PASSPHRASE, "lab-psk", version=version, akm=akm))
    hs = handshakes(read_capture(path))[0]
    words = ["password", "12345678", PASSPHRASE, "iloveyou"]
    assert crack(hs, "lab-psk", words) == PASSPHRASE
    out = aircrack(tmp_path, path, words)
    assert f"KEY FOUND! [ {PASSPHRASE} ]" in out, out
    assert "KEY FOUND" not in aircrack(tmp_path, path, ["password", "12345678"])


# --- SAE ----------------------------------------------------------------------------------------


def sae(src: str, dst: str, seqnum: int, status: int = 0, body: bytes = b""):
    return RadioTap() / Dot11(type=0, subtype=11, addr1=dst, addr2=src, addr3=AP) / Dot11Auth(
        algo=3, seqnum=seqnum, status=status) / Raw(body)


def test_sae_exchanges(tmp_path):
    commit = b"\x13\x00" + b"\x01" * 32 + b"\x02" * 64  # group 19, scalar, element
    confirm = b"\x01\x00" + b"\x03" * 32  # send-confirm, confirm
    frames = [sae(STA, AP, 1, body=commit), sae(AP, STA, 1, status=76, body=b"\x13\x00" + b"\x09" * 32),
              sae(STA, AP, 1, body=commit), sae(AP, STA, 1, body=commit),
              sae(STA, AP, 2, body=confirm), sae(AP, STA, 2, body=confirm),
              sae(STA2, AP, 1, status=126, body=commit), sae(AP, STA2, 1, status=77),
              RadioTap() / Dot11(type=0, subtype=11, addr1=AP, addr2=STA, addr3=AP) / Dot11Auth(algo=0, seqnum=1)]
    path = tmp_path / "sae.pcap"
    wrpcap(str(path), frames)
    found = sae_exchanges(read_capture(path))
    assert [(e.ap, e.sta) for e in found] == [(AP, STA), (AP, STA2)]
    done, refused = found
    assert done.complete and done.group == 19 and done.statuses == (0, 76, 0, 0, 0, 0)
    assert (done.sta_commit, done.ap_commit, done.sta_confirm, done.ap_confirm) == (True, True, True, True)
    assert not refused.complete and refused.sta_commit and not refused.ap_commit and refused.statuses == (126, 77)
    assert handshakes(read_capture(path)) == []


# --- word lists and passphrases ------------------------------------------------------------------


def test_packaged_wordlist():
    words = load_wordlist()
    assert 180 <= len(words) <= 300 and len(set(words)) == len(words)
    assert all(8 <= len(w) <= 63 and w == w.strip() for w in words)
    for word in ["password", "12345678", "motdepasse", "azertyuiop", "iloveyou", "qwertyuiop", "bonjour123"]:
        assert word in words
    on_disk = (REPO / "tspcr_lab" / "data" / "wifi-common-passphrases.txt").read_text().splitlines()
    assert words == on_disk


def test_custom_wordlist(tmp_path):
    path = tmp_path / "words.txt"
    path.write_bytes(b"first-word\r\n\n  \nmot de passe \xe9t\xe9\nd\xc3\xa9j\xc3\xa0-vu-99\n")
    assert load_wordlist(path) == ["first-word", "mot de passe été", "déjà-vu-99"]
    with pytest.raises(ProbeError, match="word list .*missing.txt: cannot be read"):
        load_wordlist(tmp_path / "missing.txt")


@pytest.mark.parametrize("passphrase, ssid, weak", [
    ("password", None, True),
    ("PassWord", None, True),  # case aside
    ("motdepasse2024!", None, True),  # a listed word with digits added
    ("lab-wifi-2", "lab-wifi-2", True),  # the SSID
    ("aaaaaaaaaaaaaaaa", None, True),
    ("31415926", None, True),  # digits only, under 12
    ("soleilcouchant", None, False),  # 14 lower-case letters: long enough
    ("grenouille", None, True),  # 10 lower-case letters
    ("Grenouille", None, False),
    ("short", None, True),  # not a WPA passphrase
    ("x" * 64, None, True),
    ("Tr0ub4dor&3-lab", "lab-wifi", False),
])
def test_passphrase_is_weak(passphrase, ssid, weak):
    words = load_wordlist()
    assert passphrase_is_weak(passphrase, words, ssid=ssid) is weak
    reason = passphrase_weakness(passphrase, words, ssid=ssid)
    assert (reason is not None) is weak and (reason is None or all(reason))


# --- captures that are no capture ----------------------------------------------------------------


@pytest.fixture()
def good_pcap(tmp_path) -> Path:
    return capture(tmp_path, handshake_frames(PASSPHRASE, "lab-psk"), name="good.pcap")


def bad(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def assert_one_line(excinfo, *words):
    message = str(excinfo.value)
    assert "\n" not in message and "Traceback" not in message, message
    assert excinfo.value.__cause__ is None  # raised from None: no chained traceback
    assert excinfo.value.__context__ is None or excinfo.value.__suppress_context__
    for word in words:
        assert word in message, message


def test_truncated_pcap(tmp_path, good_pcap):
    data = good_pcap.read_bytes()
    with pytest.raises(ProbeError) as excinfo:
        read_capture(bad(tmp_path, "cut.pcap", data[:-10]))
    assert_one_line(excinfo, "cut.pcap", "truncated", "packet 5")
    with pytest.raises(ProbeError) as excinfo:
        read_capture(bad(tmp_path, "cut-header.pcap", data[:30]))
    assert_one_line(excinfo, "truncated")
    with pytest.raises(ProbeError) as excinfo:
        read_capture(bad(tmp_path, "half.pcap", data[:12]))
    assert_one_line(excinfo, "truncated pcap header")


def test_empty_text_missing_and_directory(tmp_path):
    cases = {"empty.pcap": (b"", "empty file"),
             "notes.txt": (b"this is not a capture\nat all\n", "not a pcap or pcapng capture")}
    for name, (data, words) in cases.items():
        with pytest.raises(ProbeError) as excinfo:
            read_capture(bad(tmp_path, name, data))
        assert_one_line(excinfo, name, words)
    with pytest.raises(ProbeError) as excinfo:
        read_capture(tmp_path / "missing.pcap")
    assert_one_line(excinfo, "missing.pcap", "cannot be read")
    with pytest.raises(ProbeError) as excinfo:
        read_capture(tmp_path)
    assert_one_line(excinfo, "cannot be read")


def test_ethernet_capture_is_not_a_monitor_capture(tmp_path):
    path = tmp_path / "eth.pcap"
    wrpcap(str(path), [Ether(src=STA, dst=AP) / Raw(b"x" * 50)])
    with pytest.raises(ProbeError) as excinfo:
        read_capture(path)
    assert_one_line(excinfo, "link type 1 (Ethernet)", "monitor interface")


def test_header_only_pcap_and_pcapng(tmp_path, good_pcap):
    assert read_capture(bad(tmp_path, "header.pcap", good_pcap.read_bytes()[:24])) == []
    path = tmp_path / "good.pcapng"
    frames = handshake_frames(PASSPHRASE, "lab-psk")
    wrpcapng(str(path), [beacon(b"lab-psk", rsn(), cap="ESS+privacy"), *frames])
    packets = read_capture(path)
    assert len(packets) == 5 and beacons(packets)[AP].kind == "wpa2"
    assert crack(handshakes(packets)[0], "lab-psk", [PASSPHRASE]) == PASSPHRASE
    with pytest.raises(ProbeError) as excinfo:
        read_capture(bad(tmp_path, "cut.pcapng", path.read_bytes()[:-9]))
    assert_one_line(excinfo, "truncated", "pcapng block")


def test_import_is_cheap():
    """Importing the module loads no scapy layer: that waits for the first capture read."""
    code = ("import sys, tspcr_lab.probes.wifi as w; "
            "assert not [m for m in sys.modules if m.startswith('scapy')], 'scapy imported'; "
            "assert 'cryptography' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
