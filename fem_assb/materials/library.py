"""Named, documented material parameter sets.

Values are written in the units of their source (mol/cm³, S/cm, cm²/s, A/cm², g/cm³) times a
conversion to SI, so each line can be checked against its paper. Citation keys:

- [Clausnitzer2024] M. Clausnitzer et al., "Influence of electrode structuring techniques on
  the performance of all-solid-state batteries" (seed 001), Tables S1/S2.
- [Seed002] β-Li3PS4 / NMC622 CT-based cell study (seed 002), Table 1.
- [Bielefeld2020] A. Bielefeld, D. A. Weber, J. Janek, ACS Appl. Mater. Interfaces 12 (2020)
  12821 (seed 000).
- [Rana2023] Si-anode composite study (seed 003): Li6PS5Cl 3.4 and Li5.5PS4.5Cl1.5 9.7 mS/cm.
- [Chen2020] C.-H. Chen et al., J. Electrochem. Soc. 167 (2020) 080534 (NMC811 OCV fit).
- [Kato2016] Y. Kato et al., Nature Energy 1 (2016) 16030 (LGPS 3.2 and LSiPSCl 25 mS/cm).
- [Nyman2008] A. Nyman, M. Behm, G. Lindbergh, Electrochim. Acta 53 (2008) 6356 (LiPF6 in EC:EMC).
- [Landesfeind2019] J. Landesfeind, H. A. Gasteiger, J. Electrochem. Soc. 166 (2019) A3079.
- [ORegan2022] K. O'Regan, F. Brosa Planella, W. D. Widanage, E. Kendrick, Electrochim. Acta 425
  (2022) 140700 (NMC811 diffusivity of x from GITT).
- [Iwamoto2023] Iwamoto et al., J. Power Sources Adv. 21 (2023) 100120 (seed 004): NCA | 75Li2S-25P2S5
  glass | Li half cells, 85:15 wt%, σ(NCA) 910 and κ(LPS) 0.45 mS/cm, 43 µm cathode.
- [Kim2011] G.-H. Kim, K. Smith, K.-J. Lee, S. Santhanagopalan, A. Pesaran, J. Electrochem. Soc. 158
  (2011) A955 (NCA OCV, c_max and diffusivity, as in PyBaMM's NCA_Kim2011 set).
"""
from __future__ import annotations

import dataclasses

from fem_assb.errors import InputError
from fem_assb.materials.functions import (Chen2020OCV, Constant, Kim2011NCAOCV, Landesfeind2019, LogLinear,
                                          Nyman2008Conductivity,
                                          Nyman2008Diffusivity, ORegan2022Diffusivity, anchored)
from fem_assb.materials.types import (ActiveMaterial, Binder, LiquidElectrolyte, LithiumMetal,
                                      MaterialSet, SolidElectrolyte)
from fem_assb.units import A_CM2, CM2_S, F_CM2, G_CM3, MOL_CM3, S_CM, i00_normalised_to_si, i00_to_si

# --- NMC811 [Clausnitzer2024 Table S1] -------------------------------------------------------
# Table S1 gives U0 = 4.2 V at c0 = 0.01131 mol/cm³ (x0 = 0.2307) but no curve. We use the
# Chen 2020 NMC811 curve shifted along x so that U(x0) = 4.200 V: Chen's fit at x0 itself gives
# 4.395 V. σ and D: Table S1 gives values at c0 only ("SOC-dependent", curves not printed), so
# the defaults are constant; scenarios can plug in tables.
NMC811_OCV_SHIFT = 0.07395  # U_Chen(0.2307 + 0.07395) = 4.200 V

_NMC811_COMMON = dict(
    c_max=0.04903 * MOL_CM3,
    c0=0.01131 * MOL_CM3,
    density=4.77 * G_CM3,
    ocv=Chen2020OCV(unit="V", x_shift=NMC811_OCV_SHIFT),
    sigma=Constant(unit="S/m", value=8.83e-3 * S_CM),
    alpha=0.5,
)
_NMC811_SOURCES = {
    "c_max, c0, sigma, D, i00, alpha": "[Clausnitzer2024] Table S1",
    "density": "[Clausnitzer2024] Table S2 (4.77 g/cm³)",
    "ocv": "[Chen2020] fit, shifted by +0.07395 in x to give 4.2 V at c0 ([Clausnitzer2024] Table S1)",
}

NMC811_SE = ActiveMaterial(
    name="nmc811_se",
    diffusivity=Constant(unit="m²/s", value=8.71e-13 * CM2_S),
    i00=i00_to_si(1.5392e-3, 0.5),
    sources=_NMC811_SOURCES,
    **_NMC811_COMMON,
)
# The same NMC811 with a measured D(x) instead of seed 001's constant: [ORegan2022] GITT on LG M50
# cells gives 2.5e-10 cm²/s at x0 = 0.23 (≈ 290 × Table S1's 8.71e-13) falling to 3e-11 at x = 0.85.
NMC811_SE_DX = dataclasses.replace(
    NMC811_SE, name="nmc811_se_oregan_d", diffusivity=ORegan2022Diffusivity(unit="m²/s"),
    sources={**_NMC811_SOURCES, "D": "[ORegan2022] GITT fit D(x) (LG M50 NMC811), in place of Table S1's constant"})
NMC811_LE = ActiveMaterial(
    name="nmc811_le",
    diffusivity=Constant(unit="m²/s", value=1.63e-12 * CM2_S),
    i00=i00_to_si(2.402e-2, 0.5),
    sources={**_NMC811_SOURCES, "D, i00": "[Clausnitzer2024] Table S1, liquid-electrolyte values"},
    **_NMC811_COMMON,
)

# --- NMC622 [Seed002 Table 1] -----------------------------------------------------------------
# σ and D: log-linear between the printed end points (x = 0.4 and x = 1; Eqs. S4.1/S4.2 are
# not in the text). OCV: Eq. S4.3 is not in the text either; the default is the Chen 2020
# Ni-rich NMC curve (U(x0 = 0.405) = 4.10 V, U(1) = 3.49 V).
NMC622_C_MAX = 0.0519  # mol/cm³
BETA_LI3PS4_C_E = 0.0103  # mol/cm³, the Li concentration of β-Li3PS4
NMC622 = ActiveMaterial(
    name="nmc622",
    c_max=NMC622_C_MAX * MOL_CM3,
    c0=0.021 * MOL_CM3,
    density=4.8 * G_CM3,
    ocv=Chen2020OCV(unit="V"),
    sigma=LogLinear(unit="S/m", valid=(0.4, 1.0), x0=0.4, y0=2e-2 * S_CM, x1=1.0, y1=1.6e-6 * S_CM),
    diffusivity=LogLinear(unit="m²/s", valid=(0.4, 1.0), x0=0.4, y0=1.83e-11 * CM2_S,
                          x1=1.0, y1=3.10e-12 * CM2_S),
    # i00 = 4.98e-4 read as A/cm² with normalised concentrations, like the Li anode's i00 of the
    # same table: i0 = 2.4e-4 A/cm² at rest, and the cathode charge-transfer arc sits at ≈ 2.7 kHz
    # (paper ≈ 2.5 kHz). Read in seed 001's concentration-product units instead (A cm^2.5 mol^-1.5,
    # materials.cam_i00 = 4.98e-4) i0 is 1.3e-6 A/cm² and the arc moves to ≈ 10 Hz
    # (scenarios/delamination/i00_probe.toml, docs/REPRODUCTION.md).
    i00=i00_normalised_to_si(4.98e-4, 0.5, c_e_mol_cm3=BETA_LI3PS4_C_E, c_max_mol_cm3=NMC622_C_MAX),
    alpha=0.5,
    c_dl=8e-7 * F_CM2,
    sources={
        "c_max, c0, alpha, c_dl": "[Seed002] Table 1",
        "i00": "[Seed002] Table 1, read as A/cm² for normalised concentrations (c_e of β-Li3PS4 as reference)",
        "sigma, D": "[Seed002] §3.2 end points, log-linear in between (Eq. S4.1/S4.2 not printed)",
        "ocv": "[Chen2020] Ni-rich NMC fit as a stand-in for [Seed002] Eq. S4.3 (not printed)",
        "density": "4.8 g/cm³: 8.9 mg/cm² of CAM in 40 µm at 46 vol% ([Seed002] §2.1, §3.3.1)",
    },
)

# --- NCA [Iwamoto2023, Kim2011] ------------------------------------------------------------------
# Seed 004 gives the NCA's electronic conductivity and its composition but no OCV, c_max or
# kinetics (its D(x) is "measured in the experiment [23]", not printed). The OCV, c_max and D are
# Kim 2011's; the charged state x0 = 0.35 is 4.22 V on that curve; the interface kinetics are seed
# 001's NMC811 | Li6PS5Cl value as a stand-in for a coated Ni-rich oxide on a thiophosphate.
NCA_SE = ActiveMaterial(
    name="nca_se",
    c_max=0.049 * MOL_CM3,
    c0=0.35 * 0.049 * MOL_CM3,
    density=4.75 * G_CM3,
    ocv=Kim2011NCAOCV(unit="V"),
    sigma=Constant(unit="S/m", value=910e-3 * S_CM),
    diffusivity=Constant(unit="m²/s", value=3e-11 * CM2_S),
    i00=i00_to_si(1.5392e-3, 0.5),
    alpha=0.5,
    sources={"sigma": "[Iwamoto2023] §2.1 (910 mS/cm)",
             "c_max, ocv, D": "[Kim2011] (49 000 mol/m³, polynomial OCV, 3e-15 m²/s at 298 K)",
             "c0": "x0 = 0.35: 4.22 V on the [Kim2011] curve (charged half cell)",
             "density": "4.75 g/cm³, crystallographic LiNi0.8Co0.15Al0.05O2 (85:15 wt% gives 69 vol% CAM)",
             "i00, alpha": "[Clausnitzer2024] Table S1 NMC811 | Li6PS5Cl value, a stand-in (not in [Iwamoto2023])"},
)

# --- Solid electrolytes -------------------------------------------------------------------------
LI6PS5CL = SolidElectrolyte(
    name="li6ps5cl", kappa=0.7e-3 * S_CM, c_e=0.036662 * MOL_CM3, density=1.64 * G_CM3,
    sources={"kappa, c_e": "[Clausnitzer2024] Table S1", "density": "[Clausnitzer2024] Table S2"})
BETA_LI3PS4 = SolidElectrolyte(
    name="beta_li3ps4", kappa=1.20e-4 * S_CM, c_e=BETA_LI3PS4_C_E * MOL_CM3, density=1.87 * G_CM3,
    sources={"kappa, c_e": "[Seed002] Table 1",
             "density": "1.87 g/cm³, crystallographic β-Li3PS4 (not given in [Seed002])"})
LGPS = SolidElectrolyte(name="lgps", kappa=3.2e-3 * S_CM,
                        sources={"kappa": "[Kato2016] via [Bielefeld2020] Table 1"})
LSIPSCL = SolidElectrolyte(name="lsipscl", kappa=25e-3 * S_CM,
                           sources={"kappa": "[Kato2016] via [Bielefeld2020] Table 1 (Li9.54Si1.74P1.44S11.7Cl0.3)"})
LI6PS5CL_RANA = SolidElectrolyte(name="li6ps5cl_3.4", kappa=3.4e-3 * S_CM,
                                 sources={"kappa": "[Rana2023] (SE1)"})
LI55PS45CL15 = SolidElectrolyte(name="li5.5ps4.5cl1.5", kappa=9.7e-3 * S_CM,
                                sources={"kappa": "[Rana2023] (SE2)"})

LPS_GLASS = SolidElectrolyte(
    name="lps_glass", kappa=0.45e-3 * S_CM, c_e=3 * 1.88 / 215.2 * MOL_CM3, density=1.88 * G_CM3,
    sources={"kappa": "[Iwamoto2023] §2.1 (75Li2S-25P2S5 glass, 0.45 mS/cm)",
             "density, c_e": "1.88 g/cm³ (typical for 75Li2S-25P2S5 glass); c_e = 3 Li per Li3PS4 (215.2 g/mol)"})

#: ionic conductivity of NCM relative to the SE in flux-based studies [Bielefeld2020] §2.2
NCM_IONIC_RATIO = 1e-4

# --- Liquid electrolyte [Clausnitzer2024 Table S1] --------------------------------------------
# Table S1 gives the values at 1 M and calls all four concentration dependent, after [Nyman2008]
# (κ, D, t+) and [Landesfeind2019] (TDF). Neither fit gives Table S1's numbers at 1 M (Nyman: κ 9.49
# mS/cm, D 1.77e-6 cm²/s; Landesfeind: t+ 0.221, TDF 2.18; no Nyman t+(c) fit is at hand), so each
# published shape is scaled through the paper's 1 M value: κ × 0.991, D × 2.14, t+ × 1.13, TDF × 0.848.
LIPF6_EC_EMC = LiquidElectrolyte(
    name="lipf6_ec_emc", c_e=1e-3 * MOL_CM3,
    kappa=anchored(Nyman2008Conductivity(unit="S/m"), 1000.0, 9.4e-3 * S_CM),
    diffusivity=anchored(Nyman2008Diffusivity(unit="m²/s"), 1000.0, 3.79e-6 * CM2_S),
    transference=anchored(Landesfeind2019(unit="-", quantity="transference"), 1000.0, 0.25),
    thermodynamic_factor=anchored(Landesfeind2019(unit="-", quantity="thermodynamic_factor"), 1000.0, 1.85),
    sources={"values at 1 M": "[Clausnitzer2024] Table S1 (κ 9.4 mS/cm, D 3.79e-6 cm²/s, t+ 0.25, TDF 1.85)",
             "kappa(c), D(c)": "[Nyman2008] fits, scaled through the 1 M values",
             "t+(c), TDF(c)": "[Landesfeind2019] EC:EMC (3:7) fits at 298.15 K, scaled through the 1 M values"})

# --- Lithium metal ------------------------------------------------------------------------------
LI_METAL_CLAUSNITZER = LithiumMetal(
    name="li_clausnitzer", i0=2.59e-2 * A_CM2, alpha=0.5,
    sources={"i0, alpha": "[Clausnitzer2024] Table S1", "capacity": "3861 mAh/g, Table S2"})
LI_METAL_SEED002 = LithiumMetal(
    name="li_seed002", i0=8.87e-4 * A_CM2, alpha=0.5, c_dl=2e-7 * F_CM2,
    sources={"i0, alpha, c_dl": "[Seed002] Table 1 (i00 given in A/cm², used as i0)"})

# --- Binders [Bielefeld2020 Fig. 5a] ------------------------------------------------------------
BINDERS = {b.name: b for b in (
    Binder("pvdf", 1.78 * G_CM3, {"density": "[Bielefeld2020] §3.2"}),
    Binder("nbr", 1.00 * G_CM3, {"density": "[Bielefeld2020] §3.2"}),
)}

ELECTROLYTES = {e.name: e for e in (LI6PS5CL, BETA_LI3PS4, LGPS, LSIPSCL, LI6PS5CL_RANA,
                                    LI55PS45CL15, LPS_GLASS, LIPF6_EC_EMC)}
ACTIVE_MATERIALS = {a.name: a for a in (NMC811_SE, NMC811_SE_DX, NMC811_LE, NMC622, NCA_SE)}
ANODES = {a.name: a for a in (LI_METAL_CLAUSNITZER, LI_METAL_SEED002)}

MATERIAL_SETS = {s.name: s for s in (
    MaterialSet(
        name="nmc811_li6ps5cl_li",
        description="Seed 001 ASSB case: NMC811 | Li6PS5Cl | Li metal, 20 µm SE separator",
        cam=NMC811_SE, electrolyte=LI6PS5CL, anode=LI_METAL_CLAUSNITZER,
        separator_um=20.0, cutoff_V=3.0, references=("Clausnitzer2024", "Chen2020")),
    MaterialSet(
        name="nmc811_li6ps5cl_li_oregan_d",
        description="Seed 001 ASSB case with a measured NMC811 diffusivity D(x) (O'Regan 2022) instead of the "
                    "constant 8.71e-13 cm²/s",
        cam=NMC811_SE_DX, electrolyte=LI6PS5CL, anode=LI_METAL_CLAUSNITZER,
        separator_um=20.0, cutoff_V=3.0, references=("Clausnitzer2024", "Chen2020", "ORegan2022")),
    MaterialSet(
        name="nmc811_lipf6_li",
        description="Seed 001 LIB reference: NMC811 | 1 M LiPF6 EC:EMC | Li metal, 50 % porous separator",
        cam=NMC811_LE, electrolyte=LIPF6_EC_EMC, anode=LI_METAL_CLAUSNITZER,
        separator_um=20.0, cutoff_V=3.0, cbd_kappa_ratio=0.12, cbd_porosity=0.5, separator_kappa_ratio=0.5,
        separator_porosity=0.5,
        references=("Clausnitzer2024", "Chen2020", "Nyman2008", "Landesfeind2019")),
    MaterialSet(
        name="nca_lps_li",
        description="Seed 004: NCA | 75Li2S-25P2S5 glass | Li metal half cell, 610 µm pressed SE separator",
        # separator: 90 mg of LPS pressed in a 10 mm die ([Iwamoto2023] §2.1) at 1.88 g/cm³
        cam=NCA_SE, electrolyte=LPS_GLASS, anode=LI_METAL_CLAUSNITZER,
        # cut-off: not in [Iwamoto2023]; 2.5 V vs Li, the usual lower limit of NCA half cells
        separator_um=610.0, cutoff_V=2.5, references=("Iwamoto2023", "Kim2011", "Clausnitzer2024")),
    MaterialSet(
        name="nmc622_bli3ps4_li",
        description="Seed 002: NMC622 | β-Li3PS4 | Li metal, 425 µm SE separator",
        cam=NMC622, electrolyte=BETA_LI3PS4, anode=LI_METAL_SEED002,
        separator_um=425.0, cutoff_V=2.6, c_rate_mAh_g=200.0,  # 0.1C = 0.178 mA/cm² at 8.9 mg/cm² (Seed002 §2.1)
        references=("Seed002", "Chen2020")),
)}


def material_set(name: str, where: str = "material set") -> MaterialSet:
    """Look up a material set by name; an unknown name is an InputError listing the choices."""
    if name not in MATERIAL_SETS:
        raise InputError(f"{where}: unknown material set '{name}': accepted {', '.join(MATERIAL_SETS)}")
    return MATERIAL_SETS[name]


def electrolyte(name: str, where: str = "electrolyte") -> SolidElectrolyte | LiquidElectrolyte:
    if name not in ELECTROLYTES:
        raise InputError(f"{where}: unknown electrolyte '{name}': accepted {', '.join(ELECTROLYTES)}")
    return ELECTROLYTES[name]


def resolve(cfg, where=None) -> MaterialSet:
    """The material set named by a `[materials]` table with its overrides applied (SI)."""

    from fem_assb.materials.functions import function_from_config, scaled

    base = material_set(cfg.set)

    def fn(key, unit_user, factor, unit_si):
        text = where.key(key) if where is not None else key
        return scaled(function_from_config(getattr(cfg, key), unit_user, text), factor, unit_si)

    cam = base.cam
    if cfg.cam_ocv_V is not None:
        cam = dataclasses.replace(cam, ocv=fn("cam_ocv_V", "V", 1.0, "V"))
    if cfg.cam_sigma_S_cm is not None:
        cam = dataclasses.replace(cam, sigma=fn("cam_sigma_S_cm", "S/cm", S_CM, "S/m"))
    if cfg.cam_diffusivity_cm2_s is not None:
        cam = dataclasses.replace(cam, diffusivity=fn("cam_diffusivity_cm2_s", "cm²/s", CM2_S, "m²/s"))
    if cfg.cam_sigma_factor != 1.0:
        cam = dataclasses.replace(cam, sigma=scaled(cam.sigma, cfg.cam_sigma_factor, "S/m"))
    if cfg.cam_diffusivity_factor != 1.0:
        cam = dataclasses.replace(cam, diffusivity=scaled(cam.diffusivity, cfg.cam_diffusivity_factor, "m²/s"))
    if cfg.cam_i00 is not None:
        cam = dataclasses.replace(cam, i00=i00_to_si(cfg.cam_i00, cam.alpha))
    elyte = base.electrolyte
    liquid = isinstance(elyte, LiquidElectrolyte)
    if cfg.electrolyte_kappa_S_cm is not None:
        kappa = cfg.electrolyte_kappa_S_cm * S_CM
        elyte = dataclasses.replace(elyte, kappa=Constant(unit="S/m", value=kappa) if liquid else kappa)
    if cfg.electrolyte_transference is not None:
        if not liquid:
            text = where.key("electrolyte_transference") if where is not None else "electrolyte_transference"
            raise InputError(f"{text}: {elyte.name} is a single-ion solid electrolyte (t+ = 1); the transference "
                             "number can be set for liquid electrolytes only")
        elyte = dataclasses.replace(elyte, transference=fn("electrolyte_transference", "-", 1.0, "-"))
    anode = base.anode
    if cfg.anode_i0_A_cm2 is not None:
        anode = dataclasses.replace(anode, i0=cfg.anode_i0_A_cm2 * A_CM2)
    temperature = cfg.temperature_K if cfg.temperature_K is not None else base.temperature
    return dataclasses.replace(base, cam=cam, electrolyte=elyte, anode=anode, temperature=temperature)
