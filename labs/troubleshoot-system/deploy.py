"""Starting state of the troubleshoot-system lab (pyinfra deploy): everything as it worked (see
params.py), then the trainee's faults injected (the lab's catalogue.toml).

srv1 serves the intranet site (nginx) and the domain's DNS (dnsmasq); ws1 is the user's PC: the
user and a colleague (password logins), their homes (700) with the user's documents, the
accounting software in /opt/<tool> with its PATH set for every login shell by
/etc/profile.d/<tool>.sh, the IT department's inventory agent (a daemon with an init script of its
own, no systemd: its log level in /etc/default/inv-agent) and cron; pc1 is the support's PC.
"""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files, server

from tspcr_lab.provision.faults import inject_faults
from tspcr_lab.provision.services import service_at_boot
from tspcr_lab.provision.web import dns_zone, intranet_site

plan = host.data.lab_expected


def put(name: str, text: str, dest: str, mode: str = "644") -> None:
    files.put(name=name, src=StringIO(text), dest=dest, mode=mode)


def address(cidr: str) -> None:
    put(f"{host.name}: its fixed address", f"# written by the lab's deploy\nauto eth0\niface eth0 inet static\n"
        f"    address {cidr}\n", "/etc/network/interfaces.d/eth0")


INV_AGENT = r"""#!/bin/sh
# Inventory agent of the IT department: notes the PC's state in its log, every 10 s.
# Its log level is read from /etc/default/inv-agent at start: info (a line) or debug (every
# probe's full dump, for the IT department's investigations only).
LOGLEVEL=info
[ -r /etc/default/inv-agent ] && . /etc/default/inv-agent
LOG=/var/log/inv-agent.log
while :; do
    if [ "$LOGLEVEL" = debug ]; then
        yes "$(date '+%F %T') inv-agent[$$]: DEBUG probe=disk,cpu,mem,net,usb,pkg dump=full state=$(cat /proc/loadavg)" \
            | head -c 4096 >>"$LOG" 2>/dev/null
        sleep 0.25
    else
        echo "$(date '+%F %T') inv-agent[$$]: INFO inventory sent" >>"$LOG" 2>/dev/null
        sleep 10
    fi
done
"""

INV_AGENT_INIT = r"""#!/bin/sh
### BEGIN INIT INFO
# Provides:          inv-agent
# Required-Start:    $local_fs $network
# Required-Stop:     $local_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: inventory agent of the IT department
### END INIT INFO
PIDFILE=/run/inv-agent.pid
case "$1" in
    start)
        start-stop-daemon --start --quiet --oknodo --background --make-pidfile --pidfile "$PIDFILE" \
            --startas /usr/local/sbin/inv-agent ;;
    stop)
        start-stop-daemon --stop --quiet --oknodo --pidfile "$PIDFILE" --remove-pidfile ;;
    restart|force-reload)
        "$0" stop && "$0" start ;;
    status)
        start-stop-daemon --status --pidfile "$PIDFILE" ;;
    *)
        echo "Usage: $0 {start|stop|restart|status}" >&2; exit 3 ;;
esac
"""

if host.name == "srv1":
    address(plan["srv1_cidr"])
    put("srv1: its own resolver", f"search {plan['domain']}\nnameserver 127.0.0.1\n", "/etc/resolv.conf")
    domain = plan["domain"]
    dns_zone(domain, {f"srv1.{domain}": plan["srv1"], plan["site"]: plan["srv1"],
                     f"ws1.{domain}": plan["ws1"], f"pc1.{domain}": plan["pc1"]})
    intranet_site(plan["site"], plan["marker"])
    server.shell(name="srv1: apply", commands=[
        "ifdown --force eth0 2>/dev/null || true", "ifup eth0", "nginx -t",
        "service nginx status >/dev/null 2>&1 && service nginx restart || service nginx start",
        "service dnsmasq status >/dev/null 2>&1 && service dnsmasq restart || service dnsmasq start"])
    service_at_boot("nginx", "dnsmasq")

elif host.name == "ws1":
    address(plan["ws1_cidr"])
    put("ws1: its resolver", f"search {plan['domain']}\nnameserver {plan['srv1']}\n", "/etc/resolv.conf")
    user, colleague, tool = plan["user"], plan["colleague_login"], plan["tool"]
    for login, name in ((user, plan["user_name"]), (colleague, plan["colleague"])):
        server.user(name=f"ws1: account {login}", user=login, comment=name, shell="/bin/bash", home=f"/home/{login}",
                    create_home=True)
        files.directory(name=f"ws1: {login}'s home, theirs only", path=f"/home/{login}", user=login, group=login,
                        mode="700")
    server.shell(name="ws1: the users' passwords", commands=[
        f"chpasswd <<'EOF'\n{user}:{plan['user_password']}\n{colleague}:{plan['colleague_password']}\nEOF"])
    server.shell(name=f"ws1: {user}'s account expires at the end of the contract",
                 commands=[f"chage -E {plan['contract_end']} {user}"])
    files.directory(name=f"ws1: {user}'s documents", path=f"/home/{user}/Documents", user=user, group=user,
                    mode="700")
    for document in plan["documents"]:
        files.put(name=f"ws1: {user}'s {document}", src=StringIO(f"{document}: {plan['company']}, {plan['user_name']}\n"),
                  dest=f"/home/{user}/Documents/{document}", user=user, group=user, mode="600")
    put(f"ws1: the accounting software ({tool})",
        f"#!/bin/sh\n# {tool}: the accounting software of {plan['company']}\necho \"{tool} 4.2 ({plan['company']})\"\n",
        f"/opt/{tool}/bin/{tool}", mode="755")
    put(f"ws1: {tool} in every login shell's PATH",
        f"# {tool}: the accounting software (its vendor's installer wrote this file)\nPATH=\"$PATH:/opt/{tool}/bin\"\n"
        "export PATH\n", f"/etc/profile.d/{tool}.sh")
    put("ws1: the inventory agent", INV_AGENT, "/usr/local/sbin/inv-agent", mode="755")
    put("ws1: the inventory agent's init script", INV_AGENT_INIT, "/etc/init.d/inv-agent", mode="755")
    put("ws1: the inventory agent's settings",
        "# inventory agent: log level, info (normal) or debug (the IT department's investigations only)\n"
        "LOGLEVEL=info\n", "/etc/default/inv-agent")
    server.shell(name="ws1: apply", commands=[
        "ifdown --force eth0 2>/dev/null || true", "ifup eth0",
        "service inv-agent restart", "service cron status >/dev/null 2>&1 || service cron start"])
    service_at_boot("inv-agent", "cron")

elif host.name == "pc1":
    address(plan["pc1_cidr"])
    put("pc1: its resolver", f"search {plan['domain']}\nnameserver {plan['srv1']}\n", "/etc/resolv.conf")
    files.directory(name="pc1: the intervention reports' folder", path="/root/tickets", mode="700")
    server.shell(name="pc1: apply", commands=["ifdown --force eth0 2>/dev/null || true", "ifup eth0"])

inject_faults()
