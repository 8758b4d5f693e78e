"""Unit conversions at the interfaces. Everything inside the solvers is SI.

User-facing keys carry their unit in the name (`separator_um`, `current_mA_cm2`,
`sigma_S_cm`); these helpers convert to and from SI.
"""
F = 96485.33212  # C/mol, Faraday constant
R = 8.314462618  # J/(mol K)
T_REF = 298.15  # K

UM = 1e-6  # m per µm
CM = 1e-2  # m per cm
S_CM = 100.0  # S/m per S/cm
CM2_S = 1e-4  # m²/s per cm²/s
MOL_CM3 = 1e6  # mol/m³ per mol/cm³
A_CM2 = 1e4  # A/m² per A/cm²
MA_CM2 = 10.0  # A/m² per mA/cm²
F_CM2 = 1e4  # F/m² per F/cm²
OHM_CM2 = 1e-4  # Ω m² per Ω cm²
G_CM3 = 1e3  # kg/m³ per g/cm³
AS_PER_MAH = 3.6  # C per mAh
MAH_CM2 = 3.6e4  # C/m² per mAh/cm² (and J/m² per mWh/cm²)


def i00_to_si(i00_cgs: float, alpha: float) -> float:
    """Exchange-current factor i00 from A cm^(1+3α) mol^-(1+α) to SI.

    With i0 = i00 c_e^α c^α (c_max − c)^(1−α), concentrations in mol/cm³ and i0 in A/cm²,
    the concentration product carries (mol/cm³)^(1+α). In SI (mol/m³, A/m²) the factor is
    i00_SI = i00_cgs · 1e4 · (1e-6)^(1+α).
    """
    return i00_cgs * 1e4 * (1e-6) ** (1.0 + alpha)


def i00_normalised_to_si(i00_A_cm2: float, alpha: float, c_e_mol_cm3: float, c_max_mol_cm3: float) -> float:
    """Exchange-current factor given for normalised concentrations, i0 = i00 x^α (1 − x)^(1−α)
    with x = c/c_max and i00 in A/cm² (c_e at its own reference: constant in a single-ion SE),
    as the SI factor of i0 = i00 c_e^α c^α (c_max − c)^(1−α): i00_SI = i00 / (c_e^α c_max)."""
    return i00_A_cm2 * A_CM2 / ((c_e_mol_cm3 * MOL_CM3) ** alpha * c_max_mol_cm3 * MOL_CM3)
