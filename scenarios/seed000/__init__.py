"""Seed 000 (Bielefeld, Weber, Janek, ACS AMI 2020): effective ionic conductivity and tortuosity
of AM/SE/binder/void composites. Study files fig1–fig5 and their report hooks."""
