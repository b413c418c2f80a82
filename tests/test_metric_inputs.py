"""Metric inputs that would give a plausible wrong number are refused, and the Inception Score
reads what it is given as the reference libraries do (issue 11's two metric faults).

- Every metric function refuses NaN or inf features with a ValueError naming them
  (`ganlib.metrics.checks.require_finite`, the one shared check).
- `inception_score(kind="auto")` takes bf16-rounded probabilities for probabilities.
- The Inception extractor's logits are pool3 @ fc.weight.T without the bias, as in the original
  IS code and torch-fidelity: checked on a case worked by hand.
"""
import math

import numpy as np
import pytest
import torch

from ganlib.metrics.checks import require_finite
from ganlib.metrics.class_coverage import class_histogram, class_kl, classes_covered, covered_mask
from ganlib.metrics.extractor_inception import InceptionExtractor
from ganlib.metrics.feature_stats import RunningStats
from ganlib.metrics.frechet import fid_bootstrap, fid_from_features, frechet_distance, mean_cov
from ganlib.metrics.inception_score import PROBS_SUM_TOL, inception_score
from ganlib.metrics.kid import kid, mmd2_unbiased
from ganlib.metrics.memorisation import nearest_training
from ganlib.metrics.precision_recall import pairwise_sq_dists, precision_recall


def _feats(n=60, d=4, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal((n, d)))


def _poisoned(bad: float, n=60, d=4, row=7):
    x = _feats(n, d, seed=1)
    x[row, 1] = bad
    return x


GOOD = _feats()
HIST = torch.tensor([10.0, 20.0, 30.0])

# name -> a call of the metric with the poisoned tensor `x` in one of its inputs
CALLS = {
    "frechet_distance": lambda x: frechet_distance(x.mean(0), torch.eye(4), GOOD.mean(0), torch.eye(4)),
    "mean_cov": lambda x: mean_cov(x),
    "fid_from_features": lambda x: fid_from_features(GOOD, x),
    "fid_bootstrap": lambda x: fid_bootstrap(x, GOOD.mean(0), torch.eye(4), n_boot=2),
    "kid": lambda x: kid(GOOD, x, n_subsets=2, subset_size=20),
    "mmd2_unbiased": lambda x: mmd2_unbiased(x, GOOD),
    "inception_score": lambda x: inception_score(x, splits=2),
    "precision_recall (real)": lambda x: precision_recall(x, GOOD),
    "precision_recall (generated)": lambda x: precision_recall(GOOD, x),
    "class_histogram": lambda x: class_histogram(x, 4),
    "classes_covered": lambda x: classes_covered(x, 4),
    "covered_mask": lambda x: covered_mask(x[:3, 1]),
    "class_kl": lambda x: class_kl(HIST, x[:3, 1].abs()),
    "nearest_training (generated)": lambda x: nearest_training(x, GOOD),
    "nearest_training (training)": lambda x: nearest_training(GOOD, x),
    "RunningStats.update": lambda x: RunningStats(4).update(x),
}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("name", list(CALLS))
def test_every_metric_refuses_non_finite_input(name, bad):
    x = _poisoned(bad)
    if name in ("covered_mask", "class_kl"):
        x[:3, 1] = torch.tensor([1.0, bad, 2.0])
    with pytest.raises(ValueError, match="NaN or inf"):
        CALLS[name](x)
    CALLS[name](_feats(seed=1).abs() + 0.1)  # the same call on finite input works


def test_the_issue_case_one_nan_row_among_500_real_features():
    """Reproduced from issue 11: disjoint sets give (0.0, 1.0)... until one real row is NaN."""
    rng = np.random.default_rng(2)
    real = torch.from_numpy(rng.standard_normal((500, 8)))
    gen = real[:50] + 100.0  # far from every real sample: precision 0
    assert precision_recall(real, gen)[0] == 0.0
    real[123] = math.nan
    with pytest.raises(ValueError, match=r"real features contain NaN or inf \(1 of 500 rows\)"):
        precision_recall(real, gen)


def test_pairwise_distances_keep_nan_instead_of_zero():
    x = torch.tensor([[0.0, 0.0], [math.nan, 1.0]], dtype=torch.float64)
    d = pairwise_sq_dists(x, torch.tensor([[3.0, 4.0]], dtype=torch.float64))
    assert d[0, 0].item() == 25.0 and math.isnan(d[1, 0].item())


def test_require_finite_passes_integers_and_finite_values_through():
    labels = torch.tensor([0, 3, 2])
    assert require_finite(labels) is labels
    x = torch.ones(3, 2)
    assert require_finite(x) is x
    with pytest.raises(ValueError, match="scores contain NaN or inf \\(1 of 3 entries\\)"):
        require_finite(torch.tensor([1.0, math.nan, 2.0]), "scores")


# ---------------------------------------------------------------- Inception Score


def _confident_probs(n=2000, k=10, seed=3):
    """Confident predictions spread over k classes: an IS near (but below) k."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(k, (n,), generator=g)
    logits = torch.randn(n, k, generator=g) + 9.0 * torch.nn.functional.one_hot(labels, k)
    return torch.softmax(logits.double(), dim=1)


def test_auto_takes_bf16_rounded_probabilities_for_probabilities():
    p = _confident_probs()
    rounded = p.to(torch.bfloat16).double()
    off = (rounded.sum(1) - 1).abs().max().item()
    assert 1e-4 < off < PROBS_SUM_TOL  # off by more than the old tolerance, within the new one
    true, _ = inception_score(p, kind="probs")
    assert true > 8.5
    auto, _ = inception_score(rounded)
    assert auto == pytest.approx(inception_score(rounded, kind="probs")[0], rel=1e-12)
    assert auto == pytest.approx(true, rel=1e-2)
    as_logits, _ = inception_score(rounded, kind="logits")
    assert as_logits < 1.5  # what `auto` used to return: the softmax of probabilities is near uniform


def test_auto_still_takes_logits_for_logits():
    logits = torch.log(_confident_probs()) + 3.0  # rows of logits: outside [0, 1]
    assert inception_score(logits)[0] == pytest.approx(inception_score(logits, kind="logits")[0], rel=1e-12)


class _StubInception(InceptionExtractor):
    """The real extractor's head on given pool3 features: the trunk is replaced, nothing else."""

    def __init__(self, feats: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor):
        net = torch.nn.Module()
        net.fc = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            net.fc.weight.copy_(weight)
            net.fc.bias.copy_(bias)
        super().__init__(net, pretrained=False)
        self._feats = feats

    def preprocess(self, images):
        return images

    def _pool3(self, x):
        return self._feats[: x.shape[0]]


def test_inception_logits_leave_out_the_bias_hand_worked_is():
    """Two samples, two classes. Unbiased logits (ln 3, 0) and (0, ln 3) give p = (3/4, 1/4) and
    (1/4, 3/4), marginal (1/2, 1/2), KL = 3/4 ln(3/2) + 1/4 ln(1/2) for each, IS = exp(KL)
    = 1.1397... A bias of (5, 0) would make both samples class 0 and IS about 1."""
    ln3 = math.log(3.0)
    ext = _StubInception(torch.eye(2), torch.tensor([[ln3, 0.0], [0.0, ln3]]), torch.tensor([5.0, 0.0]))
    feats, logits = ext.features_and_logits(torch.zeros(2, 3, 4, 4))
    torch.testing.assert_close(logits, torch.tensor([[ln3, 0.0], [0.0, ln3]]))
    by_hand = math.exp(0.75 * math.log(1.5) + 0.25 * math.log(0.5))
    assert by_hand == pytest.approx(1.13975, abs=1e-5)
    assert inception_score(logits, splits=1, shuffle=False)[0] == pytest.approx(by_hand, rel=1e-6)  # float32 ln 3
    biased = inception_score(ext.net.fc(feats), splits=1, shuffle=False)[0]
    assert biased < 1.01  # the fault this fixes
