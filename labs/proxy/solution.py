"""A correct trainee's work for proxy (pyinfra deploy): what ``tspcr-lab solve proxy`` applies.

gw: squid on the plan's port (Debian's ``http_port 3128`` line changed), and in
/etc/squid/conf.d/lab.conf (included by Debian's squid.conf before its ``http_access allow
localhost`` and ``deny all``) the LAN allowed and the refused sites denied; nftables with a
forward chain rejecting TCP 80 and 443 from the LAN, saved in /etc/nftables.conf and loaded at
boot. pc1, pc2: http_proxy and https_proxy in /etc/environment, apt's proxy, and Firefox's
enterprise policy with a manual proxy.
"""

import json
import shlex
from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

from tspcr_lab.provision.firewall import nftables_at_boot

plan = host.data.lab_expected
proxy = f"{plan['gw']['lan']}:{plan['port']}"

if host.name == "gw":
    refused = " ".join(f".{name}" for name in plan["blocked"])
    files.put(
        name="gw: the LAN allowed, the refused sites denied",
        src=StringIO(f"# the company's proxy\nacl lan src {plan['lan']}\nacl refused dstdomain {refused}\n"
                     "http_access deny refused\nhttp_access allow lan\n"
                     "# a restart waits for open connections this long (30 s by default)\nshutdown_lifetime 2 seconds\n"),
        dest="/etc/squid/conf.d/lab.conf",
    )
    files.line(name="gw: squid on the plan's port", path="/etc/squid/squid.conf", line=r"^http_port .*",
               replace=f"http_port {plan['port']}")
    ports = ", ".join(str(p) for p in plan["web_ports"])
    files.put(
        name="gw: the firewall (no direct web from the LAN)",
        src=StringIO("#!/usr/sbin/nft -f\nflush ruleset\n\ntable inet filter {\n"
                     "\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n"
                     "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n"
                     f"\t\tip saddr {plan['lan']} tcp dport {{ {ports} }} reject with tcp reset\n\t}}\n"
                     "\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n\t}\n}\n"),
        dest="/etc/nftables.conf",
        mode="755",
    )
    nftables_at_boot()
    server.shell(name="gw: apply", commands=[
        "nft -f /etc/nftables.conf",
        "squid -k parse 2>/dev/null",
        # reload (squid -k reconfigure) takes the new port and rules at once; a restart would wait
        # for the running squid's shutdown_lifetime (30 s by default)
        "service squid reload",
    ])

elif host.name in plan["pcs"]:
    url = plan["proxy_url"]
    files.line(name="every user's proxy variables", path="/etc/environment", line=r"^http_proxy=.*",
               replace=f"http_proxy={url}")
    files.line(name="every user's proxy variables (HTTPS)", path="/etc/environment", line=r"^https_proxy=.*",
               replace=f"https_proxy={url}")
    files.put(name="apt through the proxy",
              src=StringIO(f'Acquire::http::Proxy "{url}";\nAcquire::https::Proxy "{url}";\n'),
              dest="/etc/apt/apt.conf.d/95proxy")
    policy = {"policies": {"Proxy": {"Mode": "manual", "Locked": True, "HTTPProxy": proxy,
                                     "UseHTTPProxyForAllProtocols": True, "Passthrough": "localhost, 127.0.0.1"}}}
    files.directory(name="the browser's policy folder", path=plan["policy_file"].rsplit("/", 1)[0])
    files.put(name="the browser's policy: a manual proxy", src=StringIO(json.dumps(policy, indent=2) + "\n"),
              dest=plan["policy_file"])
    server.shell(name="nothing to restart (read at each login)", commands=[f"true {shlex.quote(url)}"])
