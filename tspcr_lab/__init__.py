"""tspcr-lab: hands-on lab exams for the TSPCR referential that set themselves up and grade themselves."""

__version__ = "0.1.0"
