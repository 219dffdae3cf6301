"""Surface water class (GB 3838-2002), noise against the zone (GB 3096-2008) and negative-ion levels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zhulian.environment import ions, noise, water

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SHARED_NAMES = {"DO": "溶解氧", "CODMn": "高锰酸盐指数", "COD": "化学需氧量", "BOD5": "五日生化需氧量", "NH3-N": "氨氮",
                "TP": "总磷_河流", "TP-lake": "总磷_湖库", "TN": "总氮", "Cu": "铜", "Zn": "锌", "F": "氟化物",
                "Se": "硒", "As": "砷", "Hg": "汞", "Cd": "镉", "Cr6": "六价铬", "Pb": "铅", "CN": "氰化物",
                "phenol": "挥发酚", "oil": "石油类", "LAS": "阴离子表面活性剂", "S2-": "硫化物", "coliform": "粪大肠菌群"}


def test_the_water_table_matches_the_shared_transcription_of_gb_3838() -> None:
    path = DATA / "water" / "GB_3838_2002.json"
    if not path.exists():
        pytest.skip(f"the shared data file {path} is absent")
    shared = json.loads(path.read_text(encoding="utf-8-sig"))
    for name, parameter in water.PARAMETERS.items():
        limits = [float(limit["LimitValue"]) for limit in shared[SHARED_NAMES[name]]["Limits"]]
        assert limits == [float(v) for v in parameter.limits], name


def test_each_parameter_gets_the_best_class_it_keeps_and_the_worst_decides() -> None:
    result = water.assess({"pH": 7.2, "DO": 5.0, "CODMn": 4.0, "NH3-N": 1.2, "TP": 0.05, "coliform": 50000})
    classes = {name: p["class"] for name, p in result["parameters"].items()}
    assert classes == {"pH": "Ⅰ", "DO": "Ⅲ", "CODMn": "Ⅱ", "NH3-N": "Ⅳ", "TP": "Ⅱ", "coliform": "劣Ⅴ"}
    # Fecal coliform is reported but does not decide the overall class.
    assert result["overall_class"] == "Ⅳ" and result["meets_target"] is False
    assert result["over_target"] == ["NH3-N", "coliform"]
    assert result["parameters"]["NH3-N"]["exceedance_multiple"] == 0.2  # (1.2 − 1.0) / 1.0
    assert result["parameters"]["DO"]["exceedance_multiple"] is None


def test_lakes_use_the_lake_phosphorus_limits_and_class_total_nitrogen() -> None:
    river = water.assess({"TP": 0.08, "TN": 3.0})
    lake = water.assess({"TP": 0.08, "TN": 3.0}, lake=True, target="Ⅱ")
    assert river["overall_class"] == "Ⅱ" and "TN" not in river["parameters"]
    assert lake["parameters"]["TP-lake"]["class"] == "Ⅳ" and lake["overall_class"] == "劣Ⅴ"
    assert lake["parameters"]["TN"]["exceedance_multiple"] == 5.0  # (3.0 − 0.5) / 0.5
    assert water.parameter_class("pH", 9.5) == "劣Ⅴ" and water.parameter_class("DO", 1.9) == "劣Ⅴ"


def test_unknown_water_parameters_and_classes_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="basic item"):
        water.assess({"colour": 3})
    with pytest.raises(ValueError, match="target class"):
        water.assess({"DO": 6}, target="Ⅵ")


def test_noise_day_and_night_against_the_zone() -> None:
    hourly = {hour: 58.0 for hour in range(6, 22)} | {hour: 52.0 for hour in (22, 23, 0, 1, 2, 3, 4, 5)}
    ld, ln = noise.day_night_levels(hourly)
    assert (ld, ln) == (58.0, 52.0)
    result = noise.assess("2", ld=ld, ln=ln, night_lmax=66)
    assert result["day"] == {"level": 58.0, "excess_db": 0, "meets": True}
    assert result["night"] == {"level": 52.0, "excess_db": 2.0, "meets": False}
    assert result["night_burst"]["meets"] is False and result["night_burst"]["excess_db"] == 1
    assert result["ldn"] == 59.8  # 10·lg[(16·10^5.8 + 8·10^6.2)/24]
    assert noise.assess("4b", ln=58)["night"]["meets"] is True
    with pytest.raises(ValueError, match="zone class"):
        noise.assess("5", ld=50)


def test_energy_mean_weights_loud_hours() -> None:
    assert noise.energy_mean([60.0, 60.0]) == pytest.approx(60.0)
    assert noise.energy_mean([50.0, 70.0]) == pytest.approx(67.03, abs=0.01)


def test_negative_ion_levels() -> None:
    assert [ions.assess(c)["level"] for c in (3000, 1200, 1199, 500, 100, 99, 0)] == ["Ⅰ", "Ⅰ", "Ⅱ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅳ"]
    with pytest.raises(ValueError):
        ions.assess(-1)
