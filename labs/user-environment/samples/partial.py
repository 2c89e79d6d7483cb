"""A sample trainee's work for user-environment, partly right (used by the tests):

* the logon script is in place and readable, with the right variables and the tools folder
  appended to the PATH;
* but it does not map the network folder (no link in the homes);
* and it shows the banner to everybody, without testing the group;
* the skeleton has the file with its line, but not the folder.
"""

from io import StringIO

from pyinfra import host
from pyinfra.operations import files

want = host.data.lab_expected

SCRIPT = """\
# logon script
export COMPANY="{company}"
export SHARE="{share_root}/$USER"
export PATH="$PATH:{tools_dir}"
echo "{banner}"
"""

if host.name == "pc1":
    files.put(name="pc1: logon script", src=StringIO(SCRIPT.format(**want)), dest=want["logon_script"], mode="644")
    files.put(name="pc1: skeleton file", src=StringIO(f"{want['skel_line']}\n"),
              dest=f"/etc/skel/{want['skel_file']}", mode="644")
