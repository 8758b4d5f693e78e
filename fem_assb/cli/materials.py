"""`fem-assb materials`: list the material library with units and sources."""
import json


def register(sub):
    p = sub.add_parser("materials", help="list the named material sets and materials with units and sources",
                       description="List material sets (cells) and the individual materials in the units of "
                                   "their sources (mol/cm³, S/cm, cm²/s, A/cm², g/cm³), with citations.")
    p.add_argument("--json", action="store_true", help="machine-readable JSON instead of text")
    p.set_defaults(func=run)


def _cam(a):
    x0 = a.x0
    return {
        "c_max_mol_cm3": a.c_max / 1e6, "c0_mol_cm3": a.c0 / 1e6, "density_g_cm3": a.density / 1e3,
        "ocv_V": a.ocv.describe(), "ocv_at_c0_V": round(float(a.ocv(x0)), 4),
        "sigma_S_cm": a.sigma.describe(), "sigma_at_c0_S_cm": float(a.sigma(x0)) / 100,
        "diffusivity_cm2_s": a.diffusivity.describe(), "diffusivity_at_c0_cm2_s": float(a.diffusivity(x0)) * 1e4,
        "i00_A_cm2.5_mol1.5": a.i00 / (1e4 * 1e-6 ** (1 + a.alpha)), "alpha": a.alpha,
        "c_dl_F_cm2": a.c_dl / 1e4, "specific_capacity_mAh_g": a.specific_capacity / 3600,
        "sources": a.sources,
    }


def _elyte(e):
    from fem_assb.materials import LiquidElectrolyte

    d = {"kind": type(e).__name__}
    if e.c_e is not None:
        d["c_e_mol_cm3"] = e.c_e / 1e6
    if isinstance(e, LiquidElectrolyte):  # functions of c: described, and their values at c_e
        for k, unit, to in (("kappa", "S_cm", 1e-2), ("diffusivity", "cm2_s", 1e4), ("transference", "", 1.0),
                            ("thermodynamic_factor", "", 1.0)):
            f = getattr(e, k)
            d[k] = f.describe()
            d[f"{k}_at_c_e" + (f"_{unit}" if unit else "")] = float(f(e.c_e)) * to
    else:
        d["kappa_S_cm"] = e.kappa / 100
    if e.density is not None:
        d["density_g_cm3"] = e.density / 1e3
    d["sources"] = e.sources
    return d


def _anode(a):
    return {"i0_A_cm2": a.i0 / 1e4, "alpha": a.alpha, "c_dl_F_cm2": a.c_dl / 1e4,
            "specific_capacity_mAh_g": a.specific_capacity / 3600, "density_g_cm3": a.density / 1e3,
            "sources": a.sources}


def _i0_at_rest(s) -> float:
    """Cathode exchange current density at c0 in the set's electrolyte, A/cm²."""
    a, c_e = s.cam, s.electrolyte.c_e
    return a.i00 * c_e ** a.alpha * a.c0 ** a.alpha * (a.c_max - a.c0) ** (1 - a.alpha) / 1e4


def collect() -> dict:
    from fem_assb.materials import (ACTIVE_MATERIALS, ANODES, BINDERS, ELECTROLYTES, MATERIAL_SETS,
                                    NCM_IONIC_RATIO)

    return {
        "material_sets": {n: {"description": s.description, "cam": s.cam.name, "electrolyte": s.electrolyte.name,
                              "anode": s.anode.name, "separator_um": s.separator_um, "cutoff_V": s.cutoff_V,
                              "c_rate_basis_mAh_g": s.c_rate_mAh_g, "cam_i0_at_c0_A_cm2": _i0_at_rest(s),
                              "temperature_K": s.temperature, "references": list(s.references)}
                          for n, s in MATERIAL_SETS.items()},
        "active_materials": {n: _cam(a) for n, a in ACTIVE_MATERIALS.items()},
        "electrolytes": {n: _elyte(e) for n, e in ELECTROLYTES.items()},
        "anodes": {n: _anode(a) for n, a in ANODES.items()},
        "binders": {n: {"density_g_cm3": b.density / 1e3, "sources": b.sources} for n, b in BINDERS.items()},
        "ncm_ionic_ratio": NCM_IONIC_RATIO,
    }


def run(args):
    from fem_assb.parallel import log

    data = collect()
    if args.json:
        log(json.dumps(data, indent=1, ensure_ascii=False))
        return 0
    log("Material sets (fem-assb run: [materials] set = NAME)")
    for n, s in data["material_sets"].items():
        log(f"  {n}: {s['description']}; cut-off {s['cutoff_V']} V")
        log(f"      cam {s['cam']}, electrolyte {s['electrolyte']}, anode {s['anode']}; "
            f"cathode i0 {s['cam_i0_at_c0_A_cm2']:.3g} A/cm² at c0")
    log("\nActive materials (values at c0; functions of x = c/c_max)")
    for n, a in data["active_materials"].items():
        log(f"  {n}: c_max {a['c_max_mol_cm3']} mol/cm³, c0 {a['c0_mol_cm3']} mol/cm³, "
            f"ρ {a['density_g_cm3']} g/cm³, {a['specific_capacity_mAh_g']:.1f} mAh/g from c0 to c_max")
        log(f"      OCV: {a['ocv_V']} ({a['ocv_at_c0_V']} V at c0)")
        log(f"      σ: {a['sigma_S_cm']} ({a['sigma_at_c0_S_cm']:.3g} S/cm at c0)")
        log(f"      D: {a['diffusivity_cm2_s']} ({a['diffusivity_at_c0_cm2_s']:.3g} cm²/s at c0)")
        log(f"      i00 {a['i00_A_cm2.5_mol1.5']:.4g} A cm^2.5/mol^1.5, α {a['alpha']}, C_DL {a['c_dl_F_cm2']:.3g} F/cm²")
    log("\nElectrolytes")
    for n, e in data["electrolytes"].items():
        kappa = e.get("kappa_S_cm", e.get("kappa_at_c_e_S_cm"))  # a liquid's κ(c_e): its value at c_e
        extra = ", ".join(f"{k} {v:g}" if isinstance(v, (int, float)) else f"{k}: {v}" for k, v in e.items()
                          if k not in ("kind", "kappa_S_cm", "kappa_at_c_e_S_cm", "sources"))
        log(f"  {n}: κ {kappa:.4g} S/cm{', ' + extra if extra else ''}")
    log("\nAnodes")
    for n, a in data["anodes"].items():
        log(f"  {n}: i0 {a['i0_A_cm2']:.4g} A/cm², α {a['alpha']}, C_DL {a['c_dl_F_cm2']:.3g} F/cm²")
    log(f"\nNCM ionic conductivity in flux-based studies: {data['ncm_ionic_ratio']:g} × κ_SE")
    log("Sources: see `fem-assb materials --json` and fem_assb/materials/library.py")
    return 0
