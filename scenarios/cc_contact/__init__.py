"""Seed 002 current-collector contact: the standard electrode cropped at x = L to A_C/A_CC ≈ 42,
30, 11 and 1 %."""
