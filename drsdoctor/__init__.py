"""drsdoctor: names the root cause of a stuck AWS DRS wave orchestration."""

__version__ = "0.1.0"
