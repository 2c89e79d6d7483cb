"""The reference repair of the troubleshoot-system lab (pyinfra deploy): each of the trainee's
faults repaired at its cause, as the catalogue's ``repair`` scripts say, nothing else touched,
and an intervention report per ticket."""

from tspcr_lab.provision.faults import repair_faults, write_reports

repair_faults()
write_reports()
