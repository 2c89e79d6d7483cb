"""Run a command in a radio VM, in its root or as one of its wireless hosts' root (run as
``python -I -S vmconsole.py VMDIR CORE ADDRESS HOST -- ARGV...``, HOST "" for the VM's root).

It goes through the VM's control sshd from the instance's core namespace, with the instance's
grader key and the VM's host key pinned, over one multiplexed connection (a TCG guest pays a
key exchange dearly); ARGV is quoted for the remote shell, so it arrives word for word. A terminal
is asked for when standard input and output are one. Standard library only: it starts fast.
"""

import os
import shlex
import sys


def main(args: list[str]) -> None:
    folder, core, address, host, dash, *argv = args
    if dash != "--" or not argv:
        sys.exit("usage: vmconsole.py VMDIR CORE ADDRESS HOST -- ARGV...")
    remote = ["/bin/busybox", "sh", "/ctl/vm-host", "enter", host, *argv] if host else argv
    tty = os.isatty(0) and os.isatty(1)
    ssh = ["ip", "netns", "exec", core, "ssh", "-F", "/dev/null", "-i", f"{folder}/grader_key",
           "-o", f"UserKnownHostsFile={folder}/known_hosts", "-o", "StrictHostKeyChecking=yes",
           "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10",
           "-o", "ControlMaster=auto", "-o", f"ControlPath={folder}/mux", "-o", "ControlPersist=300",
           "-o", "ServerAliveInterval=15", "-tt" if tty else "-T", f"root@{address}", "--", shlex.join(remote)]
    os.execvp(ssh[0], ssh)


if __name__ == "__main__":
    main(sys.argv[1:])
