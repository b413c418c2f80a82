"""The FID Inception v3: the network every published FID and IS number is computed with.

FID is only comparable across papers when computed with the TensorFlow Inception of
2015-12-05, whose pooling differs from torchvision's Inception (and whose weights differ).
This module rebuilds that network as pytorch-fid does (mseitzer/pytorch-fid,
src/pytorch_fid/inception.py, Apache-2.0): torchvision's `inception_v3` layout with
`aux_logits=False`, 1008 classes, `init_weights=False`, and the FID blocks patched in —
average pools that do not count padding (`count_include_pad=False`) in Mixed_5b-5d, 6b-6e
and 7b, a max pool in Mixed_7c. Its state-dict keys are those of pytorch-fid's file
`pt_inception-2015-12-05-6726825d.pth`, so that file loads unchanged.

    ext = FEATURE_EXTRACTORS.get("inception")(device="cuda", amp=True)
    f, logits = ext.features_and_logits(images)  # images (N, C, H, W) in [-1, 1]
    # f: (N, 2048) pool3 features for FID/KID; logits: (N, 1008) for IS, pool3 @ fc.weight.T

The weights (about 90 MB) are found in this order: the `weights` argument; the environment
variable GANLIB_INCEPTION_WEIGHTS; torch hub's cache (`torch.hub.get_dir()/checkpoints/`);
else a download. Offline with none of them, the factory raises ExtractorUnavailable saying
how to get the file.
"""
from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path
from typing import Optional
from urllib.parse import urlparse
from urllib.request import getproxies

import torch
import torch.nn.functional as F
from torch import nn

from ganlib.core.errors import BadValue
from ganlib.metrics import FEATURE_EXTRACTORS, ExtractorSpec, ExtractorUnavailable, FeatureExtractor

# Inception weights ported to PyTorch by pytorch-fid from
# http://download.tensorflow.org/models/image/imagenet/inception-2015-12-05.tgz
FID_WEIGHTS_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                   "pt_inception-2015-12-05-6726825d.pth")
FID_WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_ENV = "GANLIB_INCEPTION_WEIGHTS"
CONNECT_TIMEOUT_S = 5.0  # the reachability probe before a download: offline fails fast


def fid_inception_v3() -> nn.Module:
    """The FID Inception with untrained weights; its state-dict keys match pytorch-fid's file."""
    # torchvision takes 1-1.5 s to import (its models pull in torch._dynamo): only when an
    # Inception is built, not on every page's or command's start.
    from ganlib.metrics.inception_net import fid_inception_v3 as build

    return build()


# --- Finding the weights. ---

def _how_to_get(reason: str) -> str:
    hub = Path(torch.hub.get_dir()) / "checkpoints" / FID_WEIGHTS_FILE
    return (f"The FID Inception weights are not available ({reason}). Download\n"
            f"  {FID_WEIGHTS_URL}\n"
            f"(about 90 MB) on a machine with internet access, then either put it at\n"
            f"  {hub}\n"
            f"or set the environment variable {WEIGHTS_ENV} to its path "
            f"(or pass weights=<path>).")


def how_to_get_line() -> str:
    """The missing weights and where they go, in one line (the Train form, evals.jsonl)."""
    hub = Path(torch.hub.get_dir()) / "checkpoints"
    return (f"the FID Inception weights are missing: put {FID_WEIGHTS_FILE} (about 90 MB, {FID_WEIGHTS_URL}) "
            f"in {hub}, or set ${WEIGHTS_ENV} to its path.")


def _download(dest: Path) -> Optional[str]:
    """torch hub's download into `dest`; returns why it failed, or None. A short connection
    probe first (to the proxy, if one is set), so that offline fails in seconds instead of
    waiting on urllib's socket, which has no timeout."""
    url = urlparse(getproxies().get("https") or FID_WEIGHTS_URL)
    host, port = url.hostname, url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as e:
        return f"cannot reach {host}: {e}"
    try:
        torch.hub.load_state_dict_from_url(FID_WEIGHTS_URL, model_dir=str(dest.parent),
                                           map_location="cpu", progress=True,
                                           file_name=dest.name, weights_only=True)
    except Exception as e:  # network errors of every kind: urllib, ssl, http, a short file
        return f"download failed: {type(e).__name__}: {e}"
    return None


def find_inception_weights(weights: Optional[str] = None, download: bool = True) -> Path:
    """The path of the weights file: `weights`, then $GANLIB_INCEPTION_WEIGHTS, then torch hub's
    cache, then a download into that cache (when `download`)."""
    if weights is not None:
        if not Path(weights).is_file():
            raise ExtractorUnavailable(_how_to_get(f"no file at weights={weights!r}"))
        return Path(weights)
    why = []
    env = os.environ.get(WEIGHTS_ENV)
    if env:
        if Path(env).is_file():
            return Path(env)
        why.append(f"{WEIGHTS_ENV}={env!r} is not a file")
    cached = Path(torch.hub.get_dir()) / "checkpoints" / FID_WEIGHTS_FILE
    if cached.is_file():
        return cached
    why.append(f"not in torch hub's cache {cached.parent}")
    failed = _download(cached) if download else "downloads disabled"
    if failed is None and cached.is_file():
        return cached
    raise ExtractorUnavailable(_how_to_get("; ".join(why + [failed or "download left no file"])))


def _load_state_dict(net: nn.Module, path: Path) -> None:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ExtractorUnavailable(_how_to_get(f"{path} cannot be read ({type(e).__name__}: {e}); "
                                               f"delete it and download it again")) from None
    if not isinstance(state, dict):
        raise ExtractorUnavailable(_how_to_get(f"{path} holds no state dict"))
    expected = set(net.state_dict())
    optional = {k for k in expected if k.endswith("num_batches_tracked")}
    missing = sorted(expected - set(state) - optional)
    unexpected = sorted(set(state) - expected)
    if missing or unexpected:
        raise ExtractorUnavailable(_how_to_get(
            f"{path} is not pytorch-fid's Inception checkpoint: missing keys {missing[:5]}, "
            f"unexpected keys {unexpected[:5]}"))
    net.load_state_dict(state, strict=False)


# --- The extractor. ---

class InceptionExtractor(FeatureExtractor):
    """pool3 features (2048) and the 1008-way logits of the FID Inception, with pytorch-fid's
    preprocessing. Frozen and always in eval mode (BatchNorm in train mode changes FID)."""

    name = "inception"
    feature_dim = 2048
    num_classes = 1008

    def __init__(self, net: nn.Module, pretrained: bool, amp: bool = False, batch_size: int = 64):
        super().__init__()
        self.net = net
        self.pretrained = pretrained  # False: random weights, good for timing only
        self.amp = amp  # bf16 autocast on CUDA; features still come back float32
        self.batch_size = batch_size  # images per forward pass: bounds memory at 299x299
        self.description = (
            "FID Inception v3 (TensorFlow 2015-12-05 weights, pytorch-fid port): "
            "2048-d pool3 features, 1008-way logits, inputs resized to 299x299"
            + ("" if pretrained else " — RANDOM WEIGHTS, for timing only"))
        super().train(False)
        self.requires_grad_(False)

    def train(self, mode: bool = True) -> "InceptionExtractor":
        """Stays in eval mode whatever is asked: BatchNorm must use its running statistics."""
        return super().train(False)

    @property
    def device(self) -> torch.device:
        return self.net.fc.weight.device

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """[-1, 1] (N, C, H, W) -> what pytorch-fid feeds its network. pytorch-fid takes [0, 1]
        images (from PIL `convert('RGB')`: gray is repeated over 3 channels), resizes them to
        299x299 bilinearly (align_corners=False, no antialias) and maps them by 2x - 1."""
        x = images.to(self.device, torch.float32)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        elif x.shape[1] == 4:  # RGBA: drop alpha
            x = x[:, :3]
        elif x.shape[1] != 3:
            raise BadValue(f"inception takes 1, 3 or 4 channels, got {x.shape[1]}")
        x = (x + 1) / 2  # our [-1, 1] -> pytorch-fid's [0, 1]
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        return 2 * x - 1  # pytorch-fid's normalize_input

    def _pool3(self, x: torch.Tensor) -> torch.Tensor:
        n = self.net
        x = n.Conv2d_1a_3x3(x)
        x = n.Conv2d_2a_3x3(x)
        x = n.Conv2d_2b_3x3(x)
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = n.Conv2d_3b_1x1(x)
        x = n.Conv2d_4a_3x3(x)
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for block in (n.Mixed_5b, n.Mixed_5c, n.Mixed_5d, n.Mixed_6a, n.Mixed_6b, n.Mixed_6c,
                      n.Mixed_6d, n.Mixed_6e, n.Mixed_7a, n.Mixed_7b, n.Mixed_7c):
            x = block(x)
        return torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1)

    @torch.no_grad()
    def features_and_logits(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats, logits = [], []
        use_amp = self.amp and self.device.type == "cuda"
        for part in images.split(self.batch_size):
            amp_ctx = (torch.autocast("cuda", dtype=torch.bfloat16) if use_amp
                       else contextlib.nullcontext())
            with amp_ctx:
                f = self._pool3(self.preprocess(part))
            f = f.float()
            feats.append(f)
            logits.append(F.linear(f, self.net.fc.weight))  # fp32 head, no bias: see `logits`
        return torch.cat(feats), torch.cat(logits)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.features_and_logits(images)[0]

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """The 1008-way logits pool3 @ fc.weight.T, without the fc bias: the original IS code
        (openai/improved-gan) and torch-fidelity's IS use these, so our IS is theirs."""
        return self.features_and_logits(images)[1]


def make_inception(device: torch.device | str = "cpu", weights: Optional[str] = None, *,
                   random_weights: bool = False, amp: bool = False,
                   download: bool = True) -> InceptionExtractor:
    """The FID Inception on `device`, frozen, in eval mode.

    weights: path to pytorch-fid's `pt_inception-2015-12-05-6726825d.pth`; None looks it up
    (env var, torch hub cache, download). random_weights: skip loading (timing benchmarks).
    amp: bf16 autocast on CUDA. Raises ExtractorUnavailable when the weights cannot be had.
    """
    net = fid_inception_v3()
    if not random_weights:
        _load_state_dict(net, find_inception_weights(weights, download=download))
    return InceptionExtractor(net, pretrained=not random_weights, amp=amp).to(device)


FEATURE_EXTRACTORS.add("inception", ExtractorSpec(
    make_inception, "images of every kind (trained on ImageNet photographs; the FID of papers)", general=True))
