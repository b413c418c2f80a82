import io

import numpy as np
import pytest
import torch

from ganlib.explore.sampling import generate, latent_walk, lerp, slerp


@pytest.fixture
def runs(image_runs):
    """The session's tiny runs, read only here."""
    return {"mlp_gan": image_runs.mlp, "cgan": image_runs.cgan}


def test_slerp_keeps_endpoints_and_norm():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(1, 64, generator=g), torch.randn(1, 64, generator=g)
    t = torch.linspace(0, 1, 9).unsqueeze(1)
    z = slerp(a, b, t)
    assert torch.allclose(z[0], a[0], atol=1e-5) and torch.allclose(z[-1], b[0], atol=1e-5)
    expected = lerp(a.norm(), b.norm(), t.squeeze(1))
    assert torch.allclose(z.norm(dim=1), expected, atol=1e-4)
    u = slerp(a / a.norm(), b / b.norm(), t)  # unit vectors stay unit
    assert torch.allclose(u.norm(dim=1), torch.ones(9), atol=1e-5)
    assert torch.allclose(slerp(a, a, t), a.expand(9, -1), atol=1e-5)  # parallel: no NaN


def test_generate_is_seeded_and_labelled(runs):
    a = generate(runs["cgan"], 20, seed=3, labels=7)
    b = generate(runs["cgan"], 20, seed=3, labels=7)
    assert np.array_equal(a.images, b.images) and (a.labels == 7).all()
    c = generate(runs["cgan"], 20, seed=4, labels=7)
    assert not np.array_equal(a.images, c.images)
    rows = generate(runs["cgan"], 30, seed=1, labels=[0] * 10 + [5] * 10 + [9] * 10, nrow=10)
    assert rows.labels.tolist() == [0] * 10 + [5] * 10 + [9] * 10
    data = np.load(io.BytesIO(a.npz()))
    assert data["images"].dtype == np.uint8 and data["images"].shape == (20, 28, 28)
    assert data["labels"].tolist() == [7] * 20


def test_generate_refuses_bad_requests(runs):
    with pytest.raises(ValueError, match="unconditional"):
        generate(runs["mlp_gan"], 4, seed=0, labels=1)
    with pytest.raises(ValueError, match="between 0 and 9"):
        generate(runs["cgan"], 4, seed=0, labels=10)
    with pytest.raises(ValueError):
        generate(runs["cgan"], 0)


def test_generate_leaves_global_rng_alone(runs):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    generate(runs["mlp_gan"], 8, seed=5)
    assert torch.equal(torch.rand(3), expected)


def test_latent_walk_endpoints_match_plain_samples(runs):
    w = latent_walk(runs["mlp_gan"], 11, 12, steps=5, mode="linear", scale=1)
    assert len(w.frames) == 5 and w.strip.size[0] > w.strip.size[1]
    first = generate(runs["mlp_gan"], 1, seed=11, scale=1)
    assert np.array_equal(np.asarray(w.frames[0]), first.images[0, 0])
    assert w.gif()[:6] == b"GIF89a"
    cw = latent_walk(runs["cgan"], 1, 1, steps=4, label_a=3, label_b=8)
    assert len(cw.frames) == 4
