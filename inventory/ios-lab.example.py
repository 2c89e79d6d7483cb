"""Example inventory of a real lab with Cisco IOS gear, in pyinfra's format: groups of (name, data).

PCs are Linux hosts managed by pyinfra over SSH; r1 and sw1 are network devices (``device_type``),
managed by their CLI over SSH with netmiko: pyinfra skips them, their starting state is the lab's
baseline (labs/LAB/baseline/r1.cfg, sw1.cfg). Passwords are never written here: an environment
variable's name (``*_env``) or a file outside the repository, mode 600 (``*_file``; its first line).

    export TSPCR_IOS_PASSWORD=...                        # the devices' login
    tspcr-lab up LAB --inventory inventory/ios-lab.example.py --seed N         # the PCs (pyinfra)
    tspcr-lab baseline LAB --inventory inventory/ios-lab.example.py --seed N   # push the baselines
    tspcr-lab grade LAB --inventory inventory/ios-lab.example.py --seed N --out DIR
    tspcr-lab baseline LAB --inventory inventory/ios-lab.example.py --seed M --reset --save  # next candidate
"""

pcs = [
    ("pc1", {"ssh_hostname": "192.0.2.11", "ssh_user": "root", "ssh_key": "~/.ssh/tspcr_lab"}),
    ("pc2", {"ssh_hostname": "192.0.2.12", "ssh_user": "root", "ssh_key": "~/.ssh/tspcr_lab"}),
]
routers = [
    ("r1", {"device_type": "cisco_ios", "device_driver": "ios", "device_hostname": "192.0.2.1",
            "device_user": "admin", "device_password_env": "TSPCR_IOS_PASSWORD",
            "device_secret_file": "~/.config/tspcr-lab/ios.enable"}),
    # an FRR router (vtysh as the login shell of device_user) is cisco_ios to netmiko, read by the FRR driver:
    # ("r2", {"device_type": "cisco_ios", "device_driver": "frr", "device_hostname": "192.0.2.2",
    #         "device_user": "admin", "device_password_file": "~/.config/tspcr-lab/r2.password"}),
]
switches = [
    ("sw1", {"device_type": "cisco_ios", "device_hostname": "192.0.2.3", "device_port": 22,
             "device_user": "admin", "device_password_env": "TSPCR_IOS_PASSWORD",
             "device_secret_file": "~/.config/tspcr-lab/ios.enable"}),
]
