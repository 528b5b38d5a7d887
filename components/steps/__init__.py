"""The step catalogue: one folder per step (data and scripts), and versions.yaml."""
