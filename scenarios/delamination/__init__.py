"""Seed 002 particle delamination: 0–75 % of the CAM|SE interface passivated."""
