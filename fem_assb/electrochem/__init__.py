"""Coupled 3D electrochemistry of a solid-state composite cathode (SPEC §3, BEST model):
φ_e in the solid electrolyte, φ_s and c in the active material, Butler–Volmer at the CAM|SE
interface and the Li-metal anode, galvanostatic current at the current collector."""
