"""Compare runs: the settings that differ, the curves overlaid, FID during training (one chart per
extractor and N: it was on Evaluate), the latest grids, and a clone into Train."""
from __future__ import annotations

import json

from ganlib.explore import run_comparison as compare
from tests.helpers import chart, chart_titles, page, run


def captions(at) -> list[str]:
    return [im.caption for el in at.image for im in el.proto.imgs]


def test_compare_shows_differences_curves_grids(runs):
    at = page("app_pages/compare_runs.py", timeout=120)
    at.session_state["cmp_runs"] = [runs.mlp.name, runs.cgan.name]
    run(at)
    df = at.dataframe[0].value
    assert list(df.columns) == ["run", "model", "ema_decay"]  # only what differs
    assert list(df["model"]) == ["mlp_gan", "cgan"]
    assert at.multiselect(key="cmp_metrics").value == ["d_loss", "g_loss"]
    fig = at.get("plotly_chart")[0]
    assert len(json.loads(fig.proto.spec)["data"]) == 4  # 2 runs x 2 metrics on shared axes
    assert captions(at) == ["epoch 2", "epoch 2"]
    at.multiselect(key="cmp_runs").set_value([runs.mlp.name])
    run(at)
    assert "pick another" in at.caption[0].value and len(at.dataframe) == 1  # only "All settings"


def test_compare_clones_a_run_into_train(runs):
    at = page("app_pages/compare_runs.py", timeout=120)
    at.session_state["cmp_runs"] = [runs.mlp.name, runs.cgan.name]
    run(at)
    at.button(key=f"cmp_clone_{runs.cgan.name}").click()
    run(at)
    assert at.title[0].value == "Train"
    want = compare.clone_config(runs.cgan)
    if "train_prefill" in at.session_state:  # the Train page has not consumed it (yet)
        assert at.session_state["train_prefill"] == want
    else:
        assert at.selectbox(key="cfg_model").value == "cgan"



def test_compare_draws_fid_during_training_per_extractor_and_n(eval_runs):
    """Evaluate's FID history, now on Compare runs: runs evaluated at another N get their own chart."""
    run_ = eval_runs.run
    at = page("app_pages/compare_runs.py")
    at.session_state["cmp_runs"] = [run_.name]
    run(at)
    history = chart(at, "FID (digits, N=256)")["data"]
    assert history[1]["name"] == run_.name  # its FID history, its ceiling and the floor
    assert [t["name"] for t in history[2:]] == [f"{run_.name} untrained G (ceiling): 321.50",
                                                f"real vs real (floor): {run_.metrics()[-1]['fid_floor']:.2f}"]
    at.multiselect(key="cmp_runs").set_value([run_.name, eval_runs.collapse])
    run(at)
    # the histories differ in N (500 by hand, 256 trained): two charts and a note saying why
    assert {"FID (digits, N=500)", "FID (digits, N=256)"} <= set(chart_titles(at))
    assert any("Not overlaid" in i.value for i in at.info)

