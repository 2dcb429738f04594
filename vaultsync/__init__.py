"""vaultsync: every report-back you owe, kept as a note in your Obsidian vault."""

__version__ = "0.1.0"
