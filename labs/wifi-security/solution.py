"""A correct trainee's work for wifi-security (pyinfra deploy): what ``tspcr-lab solve
wifi-security`` applies.

ap1: a bridge br0 joining eth0 (the wired LAN) with the plan's address, in the interfaces files;
hostapd on wlan0 in that bridge with the plan's SSID, channel, security (SAE only with PMF
required, or PSK and SAE with PMF capable), CCMP only, no WPS, the plan's passphrase; hostapd
started now and at boot. laptop: its host name, wpa_supplicant's network (SAE, PMF as the plan
says), wlan0 on DHCP through ifupdown's wpa-conf (so at boot too), its MAC address in the file
the plan names.
"""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

from tspcr_lab.provision.services import service_at_boot

plan = host.data.lab_expected
transition = plan["mode"] == "transition"

if host.name == "ap1":
    files.put(
        name="ap1: br0 bridges eth0 (and wlan0, through hostapd) to the wired LAN",
        src=StringIO(f"auto eth0\niface eth0 inet manual\n\nauto br0\niface br0 inet static\n"
                     f"    address {plan['ap1_cidr']}\n    bridge_ports eth0\n    bridge_stp off\n"
                     f"    bridge_fd 0\n"),
        dest="/etc/network/interfaces.d/br0",
    )
    conf = [
        "interface=wlan0", "bridge=br0", "driver=nl80211", f"ssid={plan['ssid']}", "country_code=FR",
        "hw_mode=g", f"channel={plan['channel']}", "auth_algs=1", "wpa=2",
        f"wpa_key_mgmt={'WPA-PSK SAE' if transition else 'SAE'}", "rsn_pairwise=CCMP", "group_cipher=CCMP",
        f"ieee80211w={1 if transition else 2}", f"sae_password={plan['passphrase']}",
    ]
    if transition:
        conf.append(f"wpa_passphrase={plan['passphrase']}")
    files.put(name="ap1: hostapd", src=StringIO("\n".join(conf) + "\n"), dest="/etc/hostapd/hostapd.conf", mode="600")
    server.shell(name="ap1: bridge up, hostapd (re)started",
                 commands=["ifup br0", "service hostapd stop >/dev/null 2>&1 || true", "service hostapd start"])
    service_at_boot("hostapd")

elif host.name == "laptop":
    files.put(name="laptop: its name", src=StringIO(plan["laptop_name"] + "\n"), dest="/etc/hostname")
    files.put(
        name="laptop: the wireless network",
        src=StringIO(f"ctrl_interface=DIR=/run/wpa_supplicant GROUP=root\nnetwork={{\n    ssid=\"{plan['ssid']}\"\n"
                     f"    key_mgmt=SAE\n    sae_password=\"{plan['passphrase']}\"\n    ieee80211w=2\n}}\n"),
        dest="/etc/wpa_supplicant/wpa_supplicant.conf", mode="600",
    )
    files.put(
        name="laptop: wlan0 on DHCP through wpa_supplicant, at boot",
        src=StringIO("auto wlan0\niface wlan0 inet dhcp\n    wpa-conf /etc/wpa_supplicant/wpa_supplicant.conf\n"),
        dest="/etc/network/interfaces.d/wlan0",
    )
    server.shell(name="laptop: its MAC address noted, wlan0 up",
                 commands=[f"cat /sys/class/net/wlan0/address > {plan['mac_file']}",
                           "ifdown --force wlan0 2>/dev/null || true", "ifup wlan0"])
