"""`python -m vaultsync`, the same as the `vaultsync` command."""

from .cli import main

if __name__ == "__main__":  # not when a process that reads notes for us imports it
    main()
