"""Metric mathematics against independent references: scipy, closed forms, formulas written out.

Tests that take a device run on CPU, and on CUDA too where one is present.
"""
import json
import math
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.spatial.distance
import scipy.stats
import torch

from ganlib.metrics.class_coverage import class_histogram, class_kl, classes_covered, covered_mask
from ganlib.metrics.feature_stats import RunningStats, cache_key_hash, cached_stats
from ganlib.metrics.frechet import fid_bootstrap, fid_from_features, frechet_distance, sample_size_warning
from ganlib.metrics.inception_score import inception_score
from ganlib.metrics.kid import kid, mmd2_unbiased
from ganlib.metrics.memorisation import nearest_training
from ganlib.metrics.precision_recall import precision_recall
from tests.helpers import reference_fid

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])




def random_spd(rng, d, samples_per_dim=2):
    a = rng.standard_normal((d, samples_per_dim * d))
    return a @ a.T / a.shape[1]


# ---------------------------------------------------------------- feature statistics


@pytest.mark.parametrize("device", DEVICES)
def test_running_stats_match_numpy_over_batches(device):
    rng = np.random.default_rng(0)
    # A large common offset: sum x x^T - n mu mu^T without a shift would cancel ~8 digits.
    x = (rng.standard_normal((1000, 16)) * 0.5 + 1e4).astype(np.float32)
    stats = RunningStats(16, device)
    for batch in np.array_split(x, 7):
        stats.update(torch.from_numpy(batch).to(device))
    x64 = x.astype(np.float64)
    assert stats.n == 1000
    np.testing.assert_allclose(stats.mean.cpu().numpy(), x64.mean(0), rtol=1e-12)
    np.testing.assert_allclose(stats.cov.cpu().numpy(), np.cov(x64, rowvar=False), rtol=1e-9, atol=1e-12)


def test_running_stats_npz_roundtrip_is_pytorch_fid_format(tmp_path):
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.standard_normal((300, 5)))
    stats = RunningStats(5).update(x[:120]).update(x[120:])
    path = stats.to_npz(tmp_path / "s.npz")
    with np.load(path) as f:  # what pytorch-fid reads
        assert set(f.files) == {"mu", "sigma", "n"}
        np.testing.assert_allclose(f["mu"], x.numpy().mean(0), rtol=1e-12)
        np.testing.assert_allclose(f["sigma"], np.cov(x.numpy(), rowvar=False), rtol=1e-10)
        assert int(f["n"]) == 300
    back = RunningStats.from_npz(path)
    assert back.n == 300
    np.testing.assert_allclose(back.cov.numpy(), stats.cov.numpy(), rtol=1e-12)
    # Loaded sums keep accumulating exactly: 300 + 200 samples = statistics of all 500.
    more = torch.from_numpy(rng.standard_normal((200, 5)) + 3)
    back.update(more)
    allx = torch.cat([x, more]).numpy()
    np.testing.assert_allclose(back.mean.numpy(), allx.mean(0), rtol=1e-10)
    np.testing.assert_allclose(back.cov.numpy(), np.cov(allx, rowvar=False), rtol=1e-10)
    # A pytorch-fid file (no n) still gives its moments, but cannot be updated.
    f_mu = np.arange(3.0)
    np.savez(tmp_path / "fid.npz", mu=f_mu, sigma=np.eye(3) * 2)
    theirs = RunningStats.from_npz(tmp_path / "fid.npz")
    np.testing.assert_array_equal(theirs.mean.numpy(), f_mu)
    np.testing.assert_array_equal(theirs.cov.numpy(), np.eye(3) * 2)
    with pytest.raises(ValueError, match="cannot be updated"):
        theirs.update(torch.zeros(1, 3))


def test_cached_stats_computes_once_per_key(tmp_path):
    calls = []
    rng = np.random.default_rng(2)

    def compute():
        calls.append(1)
        return RunningStats(4).update(torch.from_numpy(rng.standard_normal((50, 4))))

    key = {"dataset": "mnist", "extractor": "lenet", "n": 50, "preprocessing": "resize28"}
    first = cached_stats(key, compute, tmp_path)
    second = cached_stats(dict(reversed(list(key.items()))), compute, tmp_path)  # same key, other order
    assert len(calls) == 1
    np.testing.assert_array_equal(first.cov.numpy(), second.cov.numpy())
    digest = cache_key_hash(key)
    assert (tmp_path / f"{digest}.npz").exists()
    assert json.loads((tmp_path / f"{digest}.json").read_text()) == key
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # temp files were replaced
    cached_stats({**key, "n": 51}, compute, tmp_path)  # N is part of the key
    assert len(calls) == 2


# ---------------------------------------------------------------- Fréchet distance


@pytest.mark.parametrize("d", [8, 64, 256])
def test_frechet_matches_scipy_sqrtm(d):
    rng = np.random.default_rng(d)
    s1, s2 = random_spd(rng, d, 2), random_spd(rng, d, 3)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    ref = reference_fid(mu1, s1, mu2, s2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(ref, rel=1e-6)
    # torch inputs give the same number
    t = [torch.from_numpy(a) for a in (mu1, s1, mu2, s2)]
    assert frechet_distance(*t) == pytest.approx(ref, rel=1e-6)


def test_frechet_near_singular_covariances():
    """Covariances of 50 samples in 64-d have rank 49 (as seed 000's 128 samples in 2048-d)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((50, 64))
    y = rng.standard_normal((50, 64)) * 1.3 + 0.2
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    assert np.linalg.matrix_rank(s1) == 49
    mu1, mu2 = x.mean(0), y.mean(0)
    ours = frechet_distance(mu1, s1, mu2, s2)
    # Reference 1: pytorch-fid's sqrtm route.
    assert ours == pytest.approx(reference_fid(mu1, s1, mu2, s2), rel=1e-6)
    # Reference 2, exact for low rank: with S1 = Xc^T Xc/(n-1), the non-zero eigenvalues of
    # S1 S2 are those of the small symmetric Xc S2 Xc^T/(n-1).
    xc = x - mu1
    ev = np.clip(np.linalg.eigvalsh(xc @ s2 @ xc.T / 49), 0, None)
    diff = mu1 - mu2
    exact = diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(ev).sum()
    assert ours == pytest.approx(exact, rel=1e-8)
    # One singular, one full-rank covariance, both orders.
    s3 = random_spd(rng, 64, 3)
    ref = reference_fid(mu1, s1, mu2, s3)
    assert frechet_distance(mu1, s1, mu2, s3) == pytest.approx(ref, rel=1e-6)
    assert frechet_distance(mu2, s3, mu1, s1) == pytest.approx(ref, rel=1e-6)


def test_frechet_of_a_set_with_itself_is_zero():
    rng = np.random.default_rng(4)
    for s in (random_spd(rng, 64), np.cov(rng.standard_normal((20, 64)), rowvar=False)):  # full, rank 19
        mu = rng.standard_normal(64)
        fid = frechet_distance(mu, s, mu, s)
        assert 0 <= fid < 1e-6 * np.trace(s)
    f = torch.from_numpy(rng.standard_normal((500, 32)))
    assert 0 <= fid_from_features(f, f) < 1e-6 * 32


def test_frechet_is_symmetric():
    rng = np.random.default_rng(5)
    a = (rng.standard_normal(32), random_spd(rng, 32), rng.standard_normal(32), random_spd(rng, 32, 4))
    assert frechet_distance(*a) == pytest.approx(frechet_distance(a[2], a[3], a[0], a[1]), rel=1e-10)


def test_frechet_rank_one_and_zero_covariances_are_exact_not_nan():
    rng = np.random.default_rng(6)
    d = 16
    a, b = rng.standard_normal(d), rng.standard_normal(d)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    s2 = random_spd(rng, d)
    dm = (mu1 - mu2) @ (mu1 - mu2)
    # S1 = a a^T: S1^1/2 S2 S1^1/2 has the single eigenvalue a^T S2 a.
    got = frechet_distance(mu1, np.outer(a, a), mu2, s2)
    assert got == pytest.approx(dm + a @ a + np.trace(s2) - 2 * math.sqrt(a @ s2 @ a), rel=1e-9)
    # Both rank 1: tr sqrt(S1 S2) = |a . b|.
    got = frechet_distance(mu1, np.outer(a, a), mu2, np.outer(b, b))
    assert got == pytest.approx(dm + a @ a + b @ b - 2 * abs(a @ b), rel=1e-9)
    # Constant features (zero covariance) on one or both sides.
    assert frechet_distance(mu1, np.zeros((d, d)), mu2, s2) == pytest.approx(dm + np.trace(s2), rel=1e-12)
    assert frechet_distance(mu1, np.zeros((d, d)), mu1, np.zeros((d, d))) == 0.0


def test_frechet_rejects_nan_and_warns_on_clearly_negative():
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.zeros(2), np.array([[1.0, np.nan], [0, 1]]), np.zeros(2), np.eye(2))
    # An indefinite "covariance" makes the formula negative: warned about and clamped to 0.
    bad = np.diag([-5.0, 1.0])
    with pytest.warns(RuntimeWarning, match="negative"):
        assert frechet_distance(np.zeros(2), bad, np.zeros(2), bad) == 0.0


def test_fid_of_large_gaussian_samples_matches_closed_form():
    """FID of two 20k-sample sets from N(mu1, S1), N(mu2, S2) vs the closed form from the true
    parameters. The estimator's leading error is the mean term: E|m1 - m2|^2 exceeds
    |mu1 - mu2|^2 by (tr S1 + tr S2)/n, and 2 (mu1-mu2).(e1 - e2) has sd
    2 sqrt((mu1-mu2)^T (S1 + S2) (mu1-mu2) / n); covariance errors add O(sqrt(d/n)) relative terms
    of the trace parts. We draw 8 replicate pairs: their mean must sit within 4 standard errors
    (measured from the replicates) plus 0.2% of the true value, and each replicate within 3%."""
    rng = np.random.default_rng(7)
    d, n, reps = 8, 20_000, 8
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d) * 0.5
    s1, s2 = random_spd(rng, d, 3), random_spd(rng, d, 2) * 1.5
    true = reference_fid(mu1, s1, mu2, s2)
    dm = mu1 - mu2
    bias = (np.trace(s1) + np.trace(s2)) / n
    sd_mean_term = 2 * math.sqrt(dm @ (s1 + s2) @ dm / n)
    values = []
    for _ in range(reps):
        x = rng.multivariate_normal(mu1, s1, size=n)
        y = rng.multivariate_normal(mu2, s2, size=n)
        values.append(fid_from_features(torch.from_numpy(x).float(), torch.from_numpy(y).float()))
    values = np.array(values)
    se = values.std(ddof=1) / math.sqrt(reps)
    assert values.std(ddof=1) < 3 * sd_mean_term + 0.01 * true  # spread is what theory says, not more
    assert abs(values.mean() - (true + bias)) < 4 * se + 0.002 * true
    assert np.all(np.abs(values - true) < 0.03 * true)


def test_sample_size_warning_and_fid_from_features_warns():
    assert sample_size_warning(50_000, 2048) is None
    msg = sample_size_warning(128, 2048)
    assert "128" in msg and "2048" in msg and "rank" in msg
    rng = np.random.default_rng(8)
    f1, f2 = (torch.from_numpy(rng.standard_normal((20, 64))) for _ in range(2))
    with pytest.warns(UserWarning, match="rank at most 19"):
        fid = fid_from_features(f1, f2)
    assert fid > 0 and math.isfinite(fid)


@pytest.mark.parametrize("device", DEVICES)
def test_fid_bootstrap_resamples_with_replacement(device):
    rng = np.random.default_rng(9)
    real = rng.standard_normal((2000, 16))
    gen = torch.from_numpy(rng.standard_normal((1000, 16)) * 1.2 + 0.3).float().to(device)
    real_mu, real_sigma = real.mean(0), np.cov(real, rowvar=False)
    g = torch.Generator().manual_seed(123)
    mean, std, values = fid_bootstrap(gen, real_mu, real_sigma, n_boot=10, generator=g)
    # Reproduce each resample independently with the same index draws and numpy/scipy.
    g_ref = torch.Generator().manual_seed(123)
    gen64 = gen.cpu().double().numpy()
    for v in values:
        idx = torch.randint(1000, (1000,), generator=g_ref).numpy()
        xb = gen64[idx]
        assert v == pytest.approx(reference_fid(xb.mean(0), np.cov(xb, rowvar=False), real_mu, real_sigma), rel=1e-8)
    assert mean == pytest.approx(np.mean(values), rel=1e-12)
    assert std == pytest.approx(np.std(values, ddof=1), rel=1e-9)
    point = frechet_distance(gen.double().mean(0), torch.cov(gen.double().T), real_mu, real_sigma)
    assert 0 < std < 0.2 * point and abs(mean - point) < 4 * std


# ---------------------------------------------------------------- KID


def test_kid_by_hand_three_vs_three():
    x = [[0.0, 1.0], [1.0, 2.0], [-1.0, 0.5]]
    y = [[2.0, 0.0], [0.5, -1.0], [1.0, 1.0]]
    d, m = 2, 3

    def k(a, b):
        return (sum(ai * bi for ai, bi in zip(a, b)) / d + 1) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    by_hand = xx + yy - 2 * xy
    tx, ty = torch.tensor(x), torch.tensor(y)
    assert float(mmd2_unbiased(tx.double(), ty.double())) == pytest.approx(by_hand, rel=1e-12)
    # subset_size 1000 > N = 3 uses all 3 points in every subset: every subset gives the same value.
    mean, std = kid(tx, ty, n_subsets=5)
    assert mean == pytest.approx(by_hand, rel=1e-12) and std == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("device", DEVICES)
def test_kid_zero_for_same_distribution_and_grows_with_shift(device):
    rng = np.random.default_rng(10)
    a, b = (torch.from_numpy(rng.standard_normal((2000, 16))).float().to(device) for _ in range(2))
    same_mean, same_std = kid(a, b, n_subsets=50, subset_size=500)
    shifted_mean, shifted_std = kid(a, b + 0.5, n_subsets=50, subset_size=500)
    # Unbiased: for equal distributions the expectation is 0; the mean of 50 overlapping subsets
    # stays within a fraction of one subset's sd (an sd of the mean of independent subsets would
    # be same_std/7; overlap makes it larger, so 1 sd is a loose but meaningful bound).
    assert abs(same_mean) < same_std
    assert same_std < 0.01
    # A 0.5 shift in all 16 dims stands far above the subset noise.
    assert shifted_mean > 20 * same_std and shifted_mean > 10 * abs(same_mean)
    # Different draws of subsets: a cross-check of the subset average against a direct loop.
    g = torch.Generator().manual_seed(5)
    mean, _ = kid(a, b + 0.5, n_subsets=3, subset_size=400, generator=g)
    g = torch.Generator().manual_seed(5)
    direct = []
    for _ in range(3):
        i1, i2 = torch.randperm(2000, generator=g)[:400], torch.randperm(2000, generator=g)[:400]
        direct.append(float(mmd2_unbiased(a[i1.to(device)].double(), (b + 0.5)[i2.to(device)].double())))
    assert mean == pytest.approx(np.mean(direct), rel=1e-12)


# ---------------------------------------------------------------- Inception Score


def test_inception_score_confident_uniform_classifier_gives_k():
    k, per_class = 10, 100
    labels = torch.arange(k).repeat(per_class)  # interleaved: every split sees each class equally
    probs = torch.nn.functional.one_hot(labels, k).double()
    mean, std = inception_score(probs, splits=10, shuffle=False)
    assert mean == pytest.approx(k, rel=1e-12) and std == pytest.approx(0, abs=1e-9)
    # Confident logits (margin 60) instead of one-hot probabilities: IS -> K.
    mean, _ = inception_score(60.0 * probs, splits=1)
    assert mean == pytest.approx(k, rel=1e-9)
    # Class-sorted samples are shuffled by default, so each split still sees ~all classes.
    sorted_probs = torch.nn.functional.one_hot(torch.arange(k).repeat_interleave(per_class), k).float()
    mean_unshuffled, _ = inception_score(sorted_probs, splits=10, shuffle=False)
    mean_shuffled, _ = inception_score(sorted_probs, splits=10)
    assert mean_unshuffled == pytest.approx(1.0)  # each split saw one class: the seed-style mistake
    assert mean_shuffled > 0.85 * k


def test_inception_score_identical_predictions_is_one():
    logits = torch.randn(1, 7).repeat(300, 1)
    mean, std = inception_score(logits, splits=3)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0, abs=1e-12)


def test_inception_score_matches_formula_written_out():
    rng = np.random.default_rng(11)
    logits = rng.standard_normal((400, 5)) * 3
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    scores = []
    for chunk in np.array_split(p, 4):
        py = chunk.mean(0)
        kl = (chunk * (np.log(chunk) - np.log(py))).sum(1).mean()
        scores.append(math.exp(kl))
    for x in (torch.from_numpy(logits), torch.from_numpy(p)):  # logits and probabilities agree
        mean, std = inception_score(x, splits=4, shuffle=False)
        assert mean == pytest.approx(np.mean(scores), rel=1e-10)
        assert std == pytest.approx(np.std(scores), rel=1e-8)


# ---------------------------------------------------------------- precision / recall


def reference_precision_recall(real, gen, k=3):
    """Brute force with scipy distances and numpy sorting."""
    rr = np.sort(scipy.spatial.distance.cdist(real, real), axis=1)[:, k]
    gg = np.sort(scipy.spatial.distance.cdist(gen, gen), axis=1)[:, k]
    gr = scipy.spatial.distance.cdist(gen, real)
    return float((gr <= rr[None, :]).any(1).mean()), float((gr.T <= gg[None, :]).any(1).mean())


@pytest.mark.parametrize("device", DEVICES)
def test_precision_recall_matches_brute_force_with_small_chunks(device):
    rng = np.random.default_rng(12)
    real = rng.standard_normal((300, 10))
    gen = rng.standard_normal((250, 10)) * 1.3 + 0.4
    ref = reference_precision_recall(real, gen)
    got = precision_recall(torch.from_numpy(real).to(device), torch.from_numpy(gen).to(device), max_elems=1000)
    assert got == pytest.approx(ref, abs=1e-12)
    assert 0.2 < ref[0] < 0.99 and 0.2 < ref[1] < 0.99  # a non-trivial case


def test_precision_recall_identical_and_disjoint_sets():
    rng = np.random.default_rng(13)
    x = torch.from_numpy(rng.standard_normal((400, 32)) * 5 + 100).float()  # large norms: duplicates still 0
    assert precision_recall(x, x.clone()) == (1.0, 1.0)
    assert precision_recall(x, x + 1000.0) == (0.0, 0.0)


def test_precision_recall_half_the_modes():
    rng = np.random.default_rng(14)
    centres = rng.standard_normal((10, 2)) * 100  # clusters of sd 1, ~100 apart
    labels = np.repeat(np.arange(10), 200)
    real = centres[labels] + rng.standard_normal((2000, 2))
    # Exactly the real samples of modes 0-4: precision 1, recall exactly one half.
    covered = labels < 5
    assert precision_recall(torch.from_numpy(real), torch.from_numpy(real[covered])) == (1.0, 0.5)
    # Fresh samples from modes 0-4: precision ~1 and recall ~0.5. Not exactly: a fresh sample
    # in a cluster's tail can fall outside the union of 200 k-NN balls; in 2-d that happens
    # to a few percent (more in higher dims, where 200 samples cover a cluster worse).
    gen_labels = np.repeat(np.arange(5), 200)
    gen = centres[gen_labels] + rng.standard_normal((1000, 2))
    p, r = precision_recall(torch.from_numpy(real), torch.from_numpy(gen))
    assert p > 0.95 and 0.46 <= r <= 0.5
    assert (p, r) == pytest.approx(reference_precision_recall(real, gen), abs=1e-12)


# ---------------------------------------------------------------- class coverage


def test_class_histogram_and_coverage():
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    assert class_histogram(labels, 4).tolist() == [2, 1, 3, 0]
    logits = torch.nn.functional.one_hot(labels, 4).float() * 5
    assert class_histogram(logits, 4).tolist() == [2, 1, 3, 0]
    # 1000 samples over 10 classes: expected 100 each, threshold 10% of that = 10.
    counts = [300, 300, 300, 50, 10, 9, 31, 0, 0, 0]
    preds = torch.repeat_interleave(torch.arange(10), torch.tensor(counts))
    assert classes_covered(preds, 10) == 6  # 300, 300, 300, 50, 10, 31; not 9 or 0
    assert covered_mask(torch.tensor(counts)).tolist() == [True] * 5 + [False, True] + [False] * 3
    assert classes_covered(preds, 10, min_share=0.5) == 4
    # Imbalanced real data: class 9 expects 1% -> needs 1 sample; give it 1.
    real = torch.tensor([11.0] * 9 + [1.0])
    preds2 = torch.cat([torch.arange(9).repeat_interleave(111), torch.tensor([9])])
    assert classes_covered(preds2, 10, real_hist=real) == 10
    assert classes_covered(preds2, 10) == 9  # uniform expectation: class 9 needs 10
    with pytest.raises(ValueError):
        class_histogram(torch.tensor([0, 4]), 4)


def test_class_kl_against_scipy_and_collapse():
    rng = np.random.default_rng(15)
    gen, real = rng.integers(1, 100, 10).astype(float), rng.integers(1, 100, 10).astype(float)
    assert class_kl(torch.tensor(gen), torch.tensor(real)) == pytest.approx(scipy.stats.entropy(gen, real), abs=1e-5)
    uniform = torch.full((10,), 500.0)
    assert class_kl(uniform, uniform / 500) == pytest.approx(0.0, abs=1e-15)  # counts vs shares
    collapsed = torch.tensor([1000.0] + [0.0] * 9)
    # Smoothing with eps = 1e-6: p = (1 - eps + eps/10, eps/10, ...), q = uniform 1/10.
    eps = 1e-6
    p = np.array([1 - eps + eps / 10] + [eps / 10] * 9)
    assert class_kl(collapsed, uniform, eps=eps) == pytest.approx(float((p * np.log(p * 10)).sum()), rel=1e-12)
    assert class_kl(collapsed, uniform) == pytest.approx(math.log(10), abs=1e-4)  # ~ log K
    # Generated mass on a class the real data never shows: large but finite.
    kl = class_kl(torch.tensor([50.0, 50.0]), torch.tensor([100.0, 0.0]))
    assert math.isfinite(kl) and kl > 5


# ---------------------------------------------------------------- memorisation


@pytest.mark.parametrize("device", DEVICES)
def test_memorisation_finds_exact_copy(device):
    rng = np.random.default_rng(16)
    train = torch.from_numpy(rng.uniform(-1, 1, (500, 1, 8, 8))).float()  # stays on CPU
    gen = torch.from_numpy(rng.uniform(-1, 1, (40, 1, 8, 8))).float()
    gen[13] = train[321]
    gen[27] = train[5] + 0.01
    res = nearest_training(gen.to(device), train, max_elems=2000, train_chunk=64)  # many blocks
    assert res.distances[13].item() == 0.0 and res.indices[13].item() == 321
    assert res.indices[27].item() == 5 and res.distances[27].item() == pytest.approx(0.01 * 8, rel=1e-5)
    d = scipy.spatial.distance.cdist(gen.reshape(40, -1).double().numpy(), train.reshape(500, -1).double().numpy())
    np.testing.assert_array_equal(res.indices.cpu().numpy(), d.argmin(1))
    np.testing.assert_allclose(res.distances.cpu().numpy(), d.min(1), rtol=1e-12, atol=1e-12)
    pairs = res.closest_pairs(3)
    assert pairs[0] == (13, 321, 0.0) and pairs[1][:2] == (27, 5)
    assert pairs[2][2] == pytest.approx(np.sort(d.min(1))[2], rel=1e-12)


def test_no_nan_anywhere_on_degenerate_input():
    """Constant features (a fully collapsed generator) give finite numbers everywhere."""
    const = torch.ones(100, 8)
    rng = np.random.default_rng(17)
    real = torch.from_numpy(rng.standard_normal((100, 8))).float()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # N >= dim here, so nothing to warn about
        fid = fid_from_features(const, real)
    assert math.isfinite(fid) and fid > 0
    assert all(math.isfinite(v) for v in kid(const, real, subset_size=50, n_subsets=5))
    p, r = precision_recall(real, const)
    assert 0.0 <= p <= 1.0 and r == 0.0  # all generated spheres have radius 0: no real inside


def test_kid_from_the_whole_sets_kernels_equals_kid_per_subset(monkeypatch):
    """The cheaper path (kernel matrices once, each subset sums its block: issue 22) gives the
    per-subset computation's values, to float64 rounding."""
    from ganlib.metrics import kid as kid_module
    g = torch.Generator().manual_seed(3)
    x, y = torch.randn(300, 128, generator=g), torch.randn(300, 128, generator=g) * 1.2 + 0.1
    assert kid_module._grams_pay(300, 300, 150, 128, 20)
    fast = kid_module.kid(x, y, n_subsets=20, subset_size=150)
    monkeypatch.setattr(kid_module, "GRAM_LIMIT", 0)
    slow = kid_module.kid(x, y, n_subsets=20, subset_size=150)
    assert fast == pytest.approx(slow, rel=1e-12, abs=1e-15)
