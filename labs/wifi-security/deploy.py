"""Starting state of the wifi-security lab (pyinfra deploy).

srv1 is the wired LAN's server (not the trainee's work): its fixed address, dnsmasq giving
addresses by DHCP (the plan's range, srv1 as DNS server and the site's domain) and answering for
the site's names, started now and at boot. ap1 has hostapd installed (the image's package) but no
configuration, its eth0 cabled to the LAN and unconfigured, its radio (wlan0) down; the laptop's
wlan0 is unconfigured. ``host.data.lab_expected`` holds the plan drawn from the seed.
"""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

from tspcr_lab.provision.services import service_at_boot

plan = host.data.lab_expected

if host.name == "srv1":
    files.put(
        name="srv1: its fixed address",
        src=StringIO(f"# written by the lab's deploy\nauto eth0\niface eth0 inet static\n    address {plan['srv1_cidr']}\n"),
        dest="/etc/network/interfaces.d/lab",
    )
    files.put(name="srv1: its own resolver", src=StringIO("nameserver 127.0.0.1\n"), dest="/etc/resolv.conf")
    files.put(
        name="srv1: DHCP and DNS of the LAN",
        src=StringIO("\n".join([
            "# the LAN's DHCP and DNS (written by the lab's deploy: not the trainee's work)",
            "interface=eth0", "no-resolv", f"domain={plan['domain']}", f"local=/{plan['domain']}/",
            f"dhcp-range={plan['range']['start']},{plan['range']['end']},{plan['netmask']},12h",
            f"dhcp-option=option:dns-server,{plan['srv1']}",
            f"host-record=srv1.{plan['domain']},srv1,{plan['srv1']}",
            f"host-record=ap1.{plan['domain']},ap1,{plan['ap1']}",
        ]) + "\n"),
        dest="/etc/dnsmasq.d/lan.conf",
    )
    server.shell(name="srv1: address and dnsmasq",
                 commands=["ifdown --force eth0 2>/dev/null || true", "ifup eth0",
                           "service dnsmasq restart >/dev/null 2>&1 || service dnsmasq start"])
    service_at_boot("dnsmasq")

elif host.name == "ap1":
    files.file(name="ap1: no hostapd configuration", path="/etc/hostapd/hostapd.conf", present=False)
    service_at_boot("hostapd", enabled=False)

elif host.name == "laptop":
    files.file(name="laptop: no wlan0 configuration", path="/etc/network/interfaces.d/wlan0", present=False)
