"""Material library: documented values, units (SI inside), monotonicity, UFL = numpy."""
import numpy as np
import pytest

from fem_assb.errors import InputError
from fem_assb.materials import ACTIVE_MATERIALS, ANODES, ELECTROLYTES, MATERIAL_SETS, material_set
from fem_assb.materials.functions import (Chen2020OCV, Constant, Kim2011NCAOCV, LogLinear, ORegan2022Diffusivity, Table,
                                      function_from_config, scaled)
from fem_assb.units import F, i00_to_si

X = np.linspace(0.0, 1.0, 201)


def test_nmc811_table_s1_values_in_si():
    cam = material_set("nmc811_li6ps5cl_li").cam
    assert cam.c_max == pytest.approx(49030.0)  # 0.04903 mol/cm³
    assert cam.c0 == pytest.approx(11310.0)
    assert cam.density == pytest.approx(4770.0)
    assert cam.sigma(cam.x0) == pytest.approx(0.883)  # 8.83e-3 S/cm
    assert cam.diffusivity(cam.x0) == pytest.approx(8.71e-17)  # 8.71e-13 cm²/s
    assert cam.ocv(cam.x0) == pytest.approx(4.2, abs=1e-3)  # Table S1: 4.2 V at c0


def test_i00_conversion_reproduces_exchange_current():
    # i0 = i00 c_e^α c^α (c_max − c)^(1−α) must be the same current in A/cm² and in A/m²
    cam, se = ACTIVE_MATERIALS["nmc811_se"], ELECTROLYTES["li6ps5cl"]
    i0_cgs = 1.5392e-3 * np.sqrt(0.036662 * 0.01131) * np.sqrt(0.04903 - 0.01131)  # A/cm²
    i0_si = cam.i00 * np.sqrt(se.c_e * cam.c0) * np.sqrt(cam.c_max - cam.c0)  # A/m²
    assert i0_si == pytest.approx(i0_cgs * 1e4, rel=1e-12)
    assert i00_to_si(1.0, 0.0) == pytest.approx(1e-2)  # α = 0: (mol/cm³)¹ → A/cm² ... 1e4·1e-6


def test_nmc622_i00_is_read_for_normalised_concentrations():
    # seed 002 Table 1: i0 = 4.98e-4 A/cm² · √(x(1 − x)) at any state of charge, in β-Li3PS4
    s = material_set("nmc622_bli3ps4_li")
    cam, se = s.cam, s.electrolyte
    for x in (0.405, 0.7, 0.95):
        c = x * cam.c_max
        i0 = cam.i00 * se.c_e ** 0.5 * c ** 0.5 * (cam.c_max - c) ** 0.5  # A/m²
        assert i0 == pytest.approx(4.98e-4 * 1e4 * np.sqrt(x * (1 - x)), rel=1e-12)
    assert cam.i00 == pytest.approx(i00_to_si(0.09455, 0.5), rel=1e-3)  # the same in seed 001's units


def test_theoretical_capacity_seed001_reference():
    # C = (c_max − c0) F V_CAM / A: 65 % CAM in 106 µm ≈ 7 mAh/cm² (seed 001 §2.2)
    cam = material_set("nmc811_li6ps5cl_li").cam
    cap = (cam.c_max - cam.c0) * F * 0.65 * 106e-6 / 3.6 / 1e4  # C/m² → mAh/m² → mAh/cm²
    assert cap == pytest.approx(6.97, abs=0.02)


def test_nmc622_endpoints_and_monotonic_decrease():
    cam = ACTIVE_MATERIALS["nmc622"]
    assert cam.sigma(0.4) == pytest.approx(2.0)  # 2e-2 S/cm
    assert cam.sigma(1.0) == pytest.approx(1.6e-4)  # 1.6e-6 S/cm
    assert cam.diffusivity(0.4) == pytest.approx(1.83e-15)
    assert cam.diffusivity(1.0) == pytest.approx(3.10e-16)
    xs = np.linspace(0.4, 1.0, 50)
    assert np.all(np.diff(cam.sigma(xs)) < 0) and np.all(np.diff(cam.diffusivity(xs)) < 0)
    # log-linear: the geometric mean sits at the midpoint
    assert cam.sigma(0.7) == pytest.approx(np.sqrt(2.0 * 1.6e-4))
    assert cam.x0 == pytest.approx(0.021 / 0.0519)
    # held, and reported as out of range, below x = 0.4
    assert cam.sigma(0.3) == pytest.approx(2.0) and cam.sigma.out_of_range([0.3])
    assert not cam.sigma.out_of_range(xs)


@pytest.mark.parametrize("name", sorted(ACTIVE_MATERIALS))
def test_ocv_decreases_with_lithiation(name):
    ocv = ACTIVE_MATERIALS[name].ocv
    lo, hi = ocv.valid
    assert np.all(np.diff(ocv(X[(X >= lo) & (X <= hi)])) < 0)
    assert 4.0 < ocv(ACTIVE_MATERIALS[name].x0) < 4.5
    if hi == 1.0:  # curves defined up to full lithiation end there between 3.3 and 3.6 V
        assert 3.3 < ocv(1.0) < 3.6
    else:  # curves with an end-of-lithiation wall (NCA) fall below any cut-off inside their range
        assert ocv(hi) < 2.5


def test_kim2011_nca_published_formula_and_the_seed004_set():
    f = Kim2011NCAOCV(unit="V")
    s = np.array([0.35, 0.6, 0.9, 0.983])
    ref = (1.638 * s**10 - 2.222 * s**9 + 15.056 * s**8 - 23.488 * s**7 + 81.246 * s**6 - 344.566 * s**5
           + 621.3475 * s**4 - 554.774 * s**3 + 264.427 * s**2 - 66.3691 * s + 11.8058
           - 0.61386 * np.exp(5.8201 * s**136.4))  # the published form, written out independently
    assert np.allclose(f(s), ref, atol=0, rtol=1e-12)
    from scipy.optimize import brentq

    assert f(0.35) == pytest.approx(4.221, abs=1e-3)  # the docstring's points of the wall
    assert brentq(lambda x: f(x) - 3.0, 0.95, 0.99) == pytest.approx(0.983, abs=5e-4)
    assert brentq(lambda x: f(x) - 2.5, 0.95, 0.99) == pytest.approx(0.987, abs=5e-4)
    m = material_set("nca_lps_li")
    assert m.cam.sigma(0.5) == pytest.approx(91.0) and m.electrolyte.kappa == pytest.approx(0.045)  # 910, 0.45 mS/cm
    assert m.cam.ocv(m.cam.x0) == pytest.approx(4.221, abs=1e-3)
    # the cut-off is reached inside the fit's range, and 85:15 wt% gives 69 vol% NCA
    assert m.cam.ocv(m.cam.ocv.valid[1]) < m.cutoff_V
    vol = 0.85 / m.cam.density, 0.15 / m.electrolyte.density
    assert vol[0] / sum(vol) == pytest.approx(0.69, abs=0.005)


def test_chen2020_published_points():
    f = Chen2020OCV(unit="V")
    # values of the published formula, evaluated independently here
    s = np.array([0.3, 0.6, 0.9])
    ref = (-0.8090 * s + 4.4875 - 0.0428 * np.tanh(18.5138 * (s - 0.5542))
           - 17.7326 * np.tanh(15.7890 * (s - 0.3117)) + 17.5842 * np.tanh(15.9308 * (s - 0.3120)))
    assert np.allclose(f(s), ref, atol=0, rtol=1e-14)
    assert f(0.9) == pytest.approx(3.5682, abs=1e-4)


def test_anodes_and_electrolytes_units():
    assert ANODES["li_clausnitzer"].i0 == pytest.approx(259.0)  # 2.59e-2 A/cm²
    assert ANODES["li_seed002"].c_dl == pytest.approx(2e-3)  # 2e-7 F/cm²
    assert ANODES["li_seed002"].specific_capacity == pytest.approx(3861 * 3600)
    assert ELECTROLYTES["li6ps5cl"].kappa == pytest.approx(0.07)  # 0.7 mS/cm
    assert ELECTROLYTES["beta_li3ps4"].kappa == pytest.approx(0.012)
    for name, kappa_mS_cm in [("lgps", 3.2), ("lsipscl", 25), ("li6ps5cl_3.4", 3.4), ("li5.5ps4.5cl1.5", 9.7)]:
        assert ELECTROLYTES[name].kappa == pytest.approx(kappa_mS_cm * 0.1)
    for s in MATERIAL_SETS.values():
        el = s.electrolyte
        kappa = el.kappa(el.c_e) if callable(el.kappa) else el.kappa
        assert s.cam.c_max > s.cam.c0 > 0 and kappa > 0 and s.anode.i0 > 0


def test_liquid_electrolyte_matches_table_s1_at_1m_with_published_shapes():
    """Seed 001 Table S1 at 1 M (κ 9.4 mS/cm, D 3.79e-6 cm²/s, t+ 0.25, TDF 1.85); the shapes are
    the published fits' (Nyman 2008 κ at 0.5 M: 7.93 mS/cm before scaling; Landesfeind's t+ falls
    with c)."""
    from fem_assb.materials.functions import Nyman2008Conductivity

    el = ELECTROLYTES["lipf6_ec_emc"]
    c = np.array([500.0, 1000.0, 1500.0])
    assert el.kappa(1000.0) == pytest.approx(0.94) and el.diffusivity(1000.0) == pytest.approx(3.79e-10)
    assert el.transference(1000.0) == pytest.approx(0.25) and el.thermodynamic_factor(1000.0) == pytest.approx(1.85)
    assert Nyman2008Conductivity(unit="S/m")(500.0) == pytest.approx(0.7933, abs=1e-4)
    assert el.kappa(c)[0] / el.kappa(c)[1] == pytest.approx(0.7933 / 0.9487, rel=1e-4)  # the shape is kept
    assert np.all(np.diff(el.transference(c)) < 0) and np.all(el.thermodynamic_factor(c) > 1)


def test_unknown_material_set_is_input_error():
    with pytest.raises(InputError, match="unknown material set 'nmc999'.*accepted"):
        material_set("nmc999")


def test_table_and_loglinear_functions():
    t = Table(unit="S/m", x=(0.0, 0.5, 1.0), y=(1.0, 3.0, 2.0))
    assert t(np.array([0.25, 0.75])) == pytest.approx([2.0, 2.5])
    assert t(-1.0) == pytest.approx(1.0) and t(2.0) == pytest.approx(2.0)
    tl = Table(unit="S/m", x=(0.0, 1.0), y=(1.0, 100.0), log=True)
    assert tl(0.5) == pytest.approx(10.0)
    ll = LogLinear(unit="S/m", x0=0.0, y0=1.0, x1=1.0, y1=100.0)
    assert ll(0.5) == pytest.approx(10.0)
    with pytest.raises(InputError):
        Table(unit="V", x=(0.0, 0.0), y=(1.0, 2.0))


def test_function_from_config_and_scaling():
    f = scaled(function_from_config({"kind": "table", "x": [0, 1], "y": [1e-3, 2e-3]}, "S/cm", "k"), 100, "S/m")
    assert f(0.5) == pytest.approx(0.15)
    assert scaled(function_from_config(2.0, "S/cm", "k"), 100, "S/m")(0.3) == pytest.approx(200.0)
    with pytest.raises(InputError, match="unknown function kind 'spline'"):
        function_from_config({"kind": "spline"}, "V", "k")
    with pytest.raises(InputError, match="expected a number or a table"):
        function_from_config("fast", "V", "k")


@pytest.mark.parametrize("f", [
    Constant(unit="S/m", value=2.5),
    Chen2020OCV(unit="V", x_shift=0.07),
    LogLinear(unit="S/m", x0=0.4, y0=2.0, x1=1.0, y1=1.6e-4),
    Table(unit="V", x=(0.0, 0.3, 0.7, 1.0), y=(4.3, 4.0, 3.8, 3.4)),
    Table(unit="S/m", x=(0.2, 0.6, 1.0), y=(1.0, 0.1, 0.01), log=True),
    ORegan2022Diffusivity(unit="m²/s", scale=1e13),
    Kim2011NCAOCV(unit="V"),
])
def test_ufl_expression_equals_numpy(f):
    """The finite-element forms see the same function as the post-processing."""
    import dolfinx.fem
    import ufl
    from mpi4py import MPI

    from fem_assb.materials.functions import UFL

    mesh = dolfinx.mesh.create_unit_interval(MPI.COMM_SELF, 40)
    x = ufl.SpatialCoordinate(mesh)[0]
    expr = dolfinx.fem.Expression(f(x, UFL) * (x / x), np.array([[0.5]]))  # × x/x: on the mesh even if constant
    vals = expr.eval(mesh, np.arange(40, dtype=np.int32)).ravel()
    centres = (np.arange(40) + 0.5) / 40
    assert np.allclose(vals, f(centres), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("prop, override, value, si", [("sigma", "cam_sigma_S_cm", 0.02, 100.0),
                                                        ("diffusivity", "cam_diffusivity_cm2_s", 2e-11, 1e-4)])
def test_cam_factor_scales_the_set_and_the_override(prop, override, value, si):
    """cam_<prop>_factor multiplies the set's function of x and an override alike (SI inside)."""
    from fem_assb.config.scenario import MaterialsConfig
    from fem_assb.materials.library import resolve

    factor = f"cam_{prop}_factor"
    base = getattr(material_set("nmc622_bli3ps4_li").cam, prop)
    x = np.linspace(0.4, 1.0, 7)
    scaled = getattr(resolve(MaterialsConfig(set="nmc622_bli3ps4_li", **{factor: 10.0})).cam, prop)
    assert np.allclose([scaled(v) for v in x], [10.0 * base(v) for v in x], rtol=1e-12)
    both = getattr(resolve(MaterialsConfig(set="nmc622_bli3ps4_li", **{override: value, factor: 0.5})).cam, prop)
    assert both(0.7) == pytest.approx(0.5 * value * si)



def test_oregan2022_diffusivity_and_its_material_set(tmp_path):
    """The published fit at its Gaussian centres (log10 D = c0 + a_i there, × 2.7), usable as a
    TOML function kind in cm²/s and as the set nmc811_li6ps5cl_li_oregan_d."""
    from fem_assb.config.scenario import load_scenario
    from fem_assb.materials.library import MATERIAL_SETS, resolve

    d = ORegan2022Diffusivity(unit="m²/s")
    tails = lambda x: sum(a * np.exp(-(x - b) ** 2 / c) for a, b, c in  # noqa: E731
                          ((-0.9231, 0.3216, 0.002534), (-0.4066, 0.4532, 0.003926), (-0.993, 0.8098, 0.09924)))
    for x in (0.3216, 0.4532, 0.8098):
        assert np.log10(d(x) / 2.7) == pytest.approx(-13.96 + tails(x), abs=1e-12)
    assert d(0.23) == pytest.approx(2.536e-14, rel=1e-3)  # ≈ 290 × seed 001's 8.71e-17 m²/s
    assert d.out_of_range(np.array([0.2, 0.5])) and not d.out_of_range(np.array([0.3, 0.9]))
    cam = MATERIAL_SETS["nmc811_li6ps5cl_li_oregan_d"].cam
    assert cam.diffusivity(0.6) == d(0.6) and "ORegan2022" in cam.sources["D"]
    assert cam.c_max == MATERIAL_SETS["nmc811_li6ps5cl_li"].cam.c_max
    toml = tmp_path / "s.toml"
    toml.write_text('[materials]\ncam_diffusivity_cm2_s = {kind = "oregan2022"}\ncam_diffusivity_factor = 0.5\n')
    mats = resolve(load_scenario(toml).materials)
    assert mats.cam.diffusivity(0.6) == pytest.approx(0.5 * d(0.6), rel=1e-12)
