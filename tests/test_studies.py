"""The shipped study files: every one expands into valid cases, and the seed 001 trends hold on
the coarse variants (perforated: capacity falls with current, and with channel radius at
1 mA/cm²; layered: the reversed stack gives less capacity at 8 mA/cm²)."""
import json

import pytest

from tests.conftest import ROOT, run_cli

STUDIES = sorted(p for p in (ROOT / "scenarios").rglob("*.toml") if "[study]" in p.read_text())


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: str(p.relative_to(ROOT / "scenarios")))
def test_study_files_expand_into_valid_cases(path):
    from fem_assb.study.spec import load_study

    spec, cases = load_study(path)
    assert cases and len({c.name for c in cases}) == len(cases)


def capacities(tmp_path, study, cases):
    out = tmp_path / "study"
    r = run_cli("sweep", ROOT / study, "-o", out, "--case", ",".join(map(str, cases)), "--group-size", "1",
                np_ranks=2)  # two cases side by side
    assert r.returncode == 0, r.stderr
    res = {}
    for f in (out / "cases").glob("*/result.json"):
        d = json.loads(f.read_text())
        res[d["index"]] = d["result"]["capacity_mAh_cm2"]
    assert sorted(res) == sorted(cases), f"failed cases: {list((out / 'cases').glob('*/error.json'))}"
    return res


def test_perforated_trends_on_coarse_variant(tmp_path):
    # coarse.toml: radii 0, 12, 24, 36 × currents 1, 4, 8 → index = 3·k_r + k_I
    q = capacities(tmp_path, "scenarios/perforated/coarse.toml", [0, 2, 9])
    assert q[0] > q[2]  # r = 0: capacity falls with current (1 → 8 mA/cm²)
    assert q[0] > q[9]  # 1 mA/cm²: the 36 µm channel loses CAM, hence capacity


def test_reversed_layers_give_less_capacity_at_high_current(tmp_path):
    # coarse.toml: reverse (no, yes) × f_L60 (0, 0.2, 0.5, 0.8, 1) × currents (1, 4, 8)
    q = capacities(tmp_path, "scenarios/layered/coarse.toml", [5, 20])  # f_L60 = 0.2 at 8 mA/cm²
    assert q[5] > q[20]
