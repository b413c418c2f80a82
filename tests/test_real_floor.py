"""The floor of every FID/KID chart: real against real at the same N, as the evaluation
pipeline reports it (`fid_floor`, `kid_floor`), checked against a direct computation (scipy's
sqrtm FID of the two real sets, KID of the same subsets) and cached with the real statistics."""
import math

import pytest
import torch

from ganlib.data import ImageData, load_dataset
from ganlib.metrics import reference
from ganlib.metrics.evaluation import evaluate_generator
from ganlib.metrics.extractor_digits import make_digit_classifier
from ganlib.metrics.kid import kid, kid_subset_size
from ganlib.metrics.metric_registry import METRICS, eval_columns
from ganlib.metrics.reference import real_floor, real_reference
from ganlib.models import build_models
from ganlib.models.handle import GeneratorHandle
from ganlib.store.config import TrainConfig
from tests.helpers import reference_fid_of


@pytest.fixture(scope="module")
def digits():
    return load_dataset("mnist5k", device="cpu")


@pytest.fixture(scope="module")
def ext():
    return make_digit_classifier()


class Counting:
    """An extractor wrapper that counts the images it embeds (to see what the cache saves)."""

    def __init__(self, ext):
        self.ext, self.images = ext, 0
        self.name, self.feature_dim, self.num_classes = ext.name, ext.feature_dim, ext.num_classes

    def features_and_logits(self, x):
        self.images += x.shape[0]
        return self.ext.features_and_logits(x)


def test_floor_equals_scipy_fid_of_the_next_n_against_the_first_n(digits, ext, monkeypatch):
    monkeypatch.setattr(reference, "FLOOR_KID_SUBSETS", 5)  # 100 subsets of 1,000 cost seconds: the sum is the same
    n = 1000
    images = digits.images[:2500]
    ref = real_reference(images, None, ext, n, floor=True)
    fl = ref.floor
    assert fl.n == n and fl.note == ""
    a = ext.features(images[:n]).double().numpy()
    b = ext.features(images[n:2 * n]).double().numpy()
    assert fl.fid == pytest.approx(reference_fid_of(a, b), rel=1e-6)
    assert 0 <= fl.fid < 2  # the standardised digit features: real vs real is near 0
    direct = kid(torch.from_numpy(b), torch.from_numpy(a), n_subsets=5,
                 subset_size=kid_subset_size(n, n))
    assert (fl.kid, fl.kid_std) == pytest.approx(direct, rel=1e-6, abs=1e-12)
    assert abs(fl.kid) < 3 * fl.kid_std + 1e-3  # unbiased: real vs real is 0 up to its noise


def test_short_data_uses_two_halves_and_says_so(digits, ext):
    images = digits.images[:300]  # fewer than 2N = 400
    ref = real_reference(images, None, ext, 200, floor=True)
    fl = ref.floor
    assert fl.n == 150 and "two disjoint halves of 150 images" in fl.note and "2N = 400" in fl.note
    a = ext.features(images[:150]).double().numpy()
    b = ext.features(images[150:300]).double().numpy()
    assert fl.fid == pytest.approx(reference_fid_of(a, b), rel=1e-6) and fl.fid >= 0
    # 5 images: halves of 2; 3 images: halves of 1, no floor (a covariance needs 2)
    assert real_floor(digits.images[:5], ext, real_reference(digits.images[:5], None, ext, 5)).n == 2
    tiny = real_floor(digits.images[:3], ext, real_reference(digits.images[:3], None, ext, 3))
    assert tiny.n == 1 and math.isnan(tiny.fid) and math.isnan(tiny.kid)


def test_floor_is_cached_on_disk_and_in_memory_with_the_real_statistics(digits, ext, tmp_path):
    key = {"dataset": "floor-test", "n": 1}
    images = digits.images[:700]
    counting = Counting(ext)
    plain = real_reference(images, None, counting, 300, dataset_key=key, cache_dir=tmp_path)
    assert plain.floor is None and counting.images == 300  # no floor asked for, none computed
    ref = real_reference(images, None, counting, 300, dataset_key=key, cache_dir=tmp_path, floor=True)
    assert ref is plain and counting.images == 600  # only the next 300 images were embedded
    reference._memory.clear()
    again = real_reference(images, None, counting, 300, dataset_key=key, cache_dir=tmp_path, floor=True)
    assert counting.images == 600  # from the disk, floor included
    assert (again.floor.fid, again.floor.kid, again.floor.kid_std, again.floor.n) == \
        (ref.floor.fid, ref.floor.kid, ref.floor.kid_std, 300)
    assert real_reference(images, None, counting, 300, dataset_key=key, cache_dir=tmp_path,
                          floor=True) is again  # and then from memory
    (npz,) = tmp_path.glob("real_*.npz")
    assert '"preprocessing": 2' in npz.with_suffix(".json").read_text()


def test_evaluate_generator_reports_the_floor_columns(digits):
    cfg = TrainConfig(model="mlp_gan")
    torch.manual_seed(0)
    G, _ = build_models(cfg, 10)
    handle = GeneratorHandle(G.eval(), cfg.latent_dim)
    data = ImageData(digits.images[:600], digits.labels[:600], digits.class_names, "mnist5k")
    res = evaluate_generator(handle, data, extractor="digits", n=250, n_boot=2, kid_subsets=5)
    row = res.row
    assert {"fid_floor", "kid_floor"} <= set(row) and {"fid_floor", "kid_floor"} <= set(eval_columns())
    assert {"fid_floor", "kid_floor"} <= set(METRICS)
    assert res.details["floor_n"] == 250 and not any("halves" in w for w in res.warnings)
    assert 0 <= row["fid_floor"] < row["fid"] and row["kid_floor"] < row["kid"]
    assert 100 < row["fid"] < 1000  # an untrained generator on the standardised digit features
    short = evaluate_generator(handle, data, extractor="digits", n=400, n_boot=2, kid_subsets=5)
    assert short.details["floor_n"] == 300
    assert any("two disjoint halves of 300 images" in w for w in short.warnings)
