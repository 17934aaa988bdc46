"""spo-tui: triage and management oversight for senior probation officers, in the terminal."""

__version__ = "0.1.0"
