"""Seed 001 two-layer cathodes (Clausnitzer et al.): L60 (60 % CAM) at the separator, L70 at the
current collector, thickness fraction f_L60 of L60; and the reversed stack (Fig. S5)."""
