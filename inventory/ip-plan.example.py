"""Example inventory of a real ip-plan lab, in pyinfra's format: groups of (name, data).

Host names are the lab's own. Use it with:
    tspcr-lab up ip-plan --inventory inventory/ip-plan.example.py --seed N       # the lab's starting state
    tspcr-lab grade ip-plan --inventory inventory/ip-plan.example.py --seed N --out DIR
(``ssh_known_hosts_file`` names a known_hosts file holding the hosts' keys, if not the user's own.)
"""

pcs = [
    ("pc1", {"ssh_hostname": "192.0.2.11", "ssh_user": "root", "ssh_key": "~/.ssh/tspcr_lab"}),
    ("pc2", {"ssh_hostname": "192.0.2.12", "ssh_user": "root", "ssh_key": "~/.ssh/tspcr_lab"}),
]
routers = [("r1", {"ssh_hostname": "192.0.2.1", "ssh_user": "root", "ssh_key": "~/.ssh/tspcr_lab"})]
servers = [("srv1", {"ssh_hostname": "192.0.2.21", "ssh_user": "root", "ssh_key": "~/.ssh/tspcr_lab"})]
