"""`python -m vaultsync`, the same as the `vaultsync` command."""

from .cli import main

main()
