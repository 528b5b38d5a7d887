"""Rehearse a Linux flavour's build on this machine: `make rehearse FLAVOUR=<name>` (README.md)."""
