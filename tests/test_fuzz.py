"""Fuzzing as a test (issue 11): property-based tests with hypothesis over the importer, the
config parser, the image reader and the run-folder CSV/JSON readers. Each asserts "a clear
refusal or a valid result, never another exception".

In CI each property runs GANLIB_FUZZ_EXAMPLES examples (default 25), derandomized, so the
suite stays fast and repeatable; `reliability/fuzz_campaign.py` runs the same properties with
thousands of random examples and writes what it found to docs/RELIABILITY.md.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from ganlib.cli.runs import runs_table
from ganlib.data.image_files import read_image
from ganlib.engine.training import train
from ganlib.interchange import export, untrusted
from ganlib.interchange.config_files import parse_config_text
from ganlib.interchange.importing import import_file
from ganlib.store.config import ConfigError, TrainConfig, field_specs
from ganlib.store.run_folder import Run
from ganlib.store.run_health import summary_row
from tests.helpers import rezip

EXAMPLES = int(os.environ.get("GANLIB_FUZZ_EXAMPLES", "25"))
CAMPAIGN = "GANLIB_FUZZ_EXAMPLES" in os.environ
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not CAMPAIGN, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])

FIELDS = [f.name for f in field_specs()]
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
# Values a careless user or a hostile file may give a field: numbers at and past the bounds, text
# that looks like numbers, booleans for numbers, containers.
FIELD_VALUES = st.one_of(JSON_VALUES, st.sampled_from(["", "1e400", "nan", "-0", "2**70", "maybe", "1_000", " 7 ",
                                                       str(2**70), "1e300", "0x10", "true"]),
                         st.integers(-2**70, 2**70), st.floats(-1e12, 1e12))


@pytest.fixture(scope="module")
def run_zip(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz-runs")
    cfg = TrainConfig(max_images=256, batch_size=64, epochs=1, device="cpu", eval_every=0, model="mlp_gan",
                      loss="nonsaturating", lr_g=2e-4, lr_d=2e-4, d_norm="batch", latent_dim=16)
    data = export.export_zip(train(cfg, runs_dir=root).run)
    zf = zipfile.ZipFile(io.BytesIO(data))
    return data, {n: zf.read(n) for n in zf.namelist()}


def imports_or_refuses(data: bytes, name: str = "x.zip") -> None:
    """The importer's promise: an ImportRefused, or a run that loads; nothing else, and no
    half-made folder after a refusal."""
    with tempfile.TemporaryDirectory() as root:
        try:
            run = import_file(data, name, runs_root=root)
        except untrusted.ImportRefused as e:
            assert str(e) and "\n" not in str(e).strip()
            assert not any(Path(root).iterdir()), "a refused import left a folder"
            return
        assert run.latest_checkpoint() is not None and run.config() is not None


# ---- the config parser -------------------------------------------------------------------------------
@FUZZ
@given(st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), FIELD_VALUES, max_size=6))
def test_config_from_dict_is_a_valid_config_or_a_config_error(values):
    try:
        cfg = TrainConfig.from_dict(values)
    except ConfigError as e:
        assert e.field and str(e).startswith(f"{e.field}: ") and "\n" not in str(e)
        return
    assert TrainConfig.from_json(cfg.to_json()) == cfg


@FUZZ
@given(st.one_of(st.text(max_size=300), JSON_VALUES.map(json.dumps)), st.sampled_from(["json", "yaml"]))
def test_config_files_parse_or_refuse(text, fmt):
    try:
        cfg = parse_config_text(text, fmt)
    except (ValueError, ConfigError) as e:  # ConfigError is a ValueError; both are one line
        assert str(e)
        return
    assert isinstance(cfg, TrainConfig)


# ---- the importer ------------------------------------------------------------------------------------
@FUZZ
@given(st.data())
def test_a_run_zip_with_flipped_or_cut_bytes_imports_or_is_refused(run_zip, data):
    raw = bytearray(run_zip[0])
    for pos, value in data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)),
                                         min_size=1, max_size=6)):
        raw[pos] = value
    cut = data.draw(st.one_of(st.none(), st.integers(0, len(raw))))
    imports_or_refuses(bytes(raw[:cut] if cut is not None else raw))


@FUZZ
@given(st.data())
def test_a_run_zip_with_hostile_json_or_csv_imports_or_is_refused(run_zip, data):
    members = dict(run_zip[1])
    top = next(iter(members)).split("/")[0]
    target = data.draw(st.sampled_from(["manifest.json", "config.json", "metrics.csv", "evals.jsonl"]))
    key = f"{top}/{target}"
    if target.endswith(".json"):
        values = json.loads(members[key])
        field = data.draw(st.sampled_from(sorted(values)))
        values[field] = data.draw(FIELD_VALUES)
        members[key] = json.dumps(values).encode()
    else:
        members[key] = data.draw(st.text(max_size=200)).encode()
    imports_or_refuses(rezip(members))


@FUZZ
@given(st.data())
def test_safetensors_with_hostile_metadata_imports_or_is_refused(run_zip, data):
    g = next(v for k, v in run_zip[1].items() if k.endswith("weights/G.safetensors"))
    meta = untrusted._safetensors_metadata(g)
    key = data.draw(st.sampled_from(sorted(meta) + ["ganlib_network"]))
    meta[key] = data.draw(st.one_of(st.text(max_size=20), FIELD_VALUES.map(json.dumps)))
    imports_or_refuses(safetensors.torch.save(safetensors.torch.load(g), metadata=meta), "G.safetensors")


@FUZZ
@given(st.binary(max_size=600), st.sampled_from(["x.zip", "G.safetensors", "G.pt", "G.pth"]))
def test_random_bytes_are_refused(blob, name):
    imports_or_refuses(blob, name)


# ---- the image reader --------------------------------------------------------------------------------
@FUZZ
@given(st.one_of(st.binary(max_size=400), st.binary(max_size=400).map(lambda b: b"\x89PNG\r\n\x1a\n" + b)))
def test_random_files_read_as_an_image_or_none(blob):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "x.png"
        p.write_bytes(blob)
        a = read_image(p, rgb=True, size=8)
    assert a is None or (a.dtype == np.uint8 and a.shape == (3, 8, 8))


@FUZZ
@given(arrays(st.sampled_from([np.uint8, np.uint16, np.int32, np.float32]), st.tuples(st.integers(1, 12),
                                                                                       st.integers(1, 12))),
       st.sampled_from(["png", "tiff"]))
def test_images_of_every_depth_are_scaled_to_8_bits_or_refused_with_a_reason(a, fmt):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"x.{fmt}"
        try:
            Image.fromarray(a).save(p)
        except (OSError, TypeError, ValueError, KeyError):
            return  # PIL cannot write this combination: nothing to read
        reasons: list[str] = []
        out = read_image(p, reasons=reasons)
    if out is None:
        assert reasons and reasons[0].startswith(f"x.{fmt}: ")
        return
    assert out.dtype == np.uint8 and out.shape[1:] == a.shape
    if a.dtype == np.uint8:
        assert (out[0] == a).all()
    elif a.dtype == np.uint16:
        assert np.abs(out[0].astype(int) - np.rint(a / 257.0)).max() <= 1


# ---- the run folder's CSV and JSON readers: a listing never fails --------------------------------------
@FUZZ
@given(st.fixed_dictionaries({}, optional={
    "metrics.csv": st.one_of(st.text(max_size=200), st.binary(max_size=100)),
    "status.json": st.one_of(JSON_VALUES.map(json.dumps), st.text(max_size=60)),
    "config.json": st.one_of(st.dictionaries(st.sampled_from(FIELDS), FIELD_VALUES, max_size=3).map(json.dumps),
                             st.text(max_size=60)),
    "evals.jsonl": st.text(max_size=100),
    "stream.csv": st.text(max_size=100),
}))
def test_any_run_folder_lists_as_one_row(files):
    with tempfile.TemporaryDirectory() as d:
        run = Run(Path(d) / "00001-x-y")
        run.path.mkdir()
        for name, content in files.items():
            p = run.path / name
            p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass"))
        row = summary_row(run)
        assert row["run"] == run.name and isinstance(runs_table([row]), str)
        run.stream()  # the live charts' reader: skips what it cannot read


@FUZZ
@given(st.binary(max_size=300))
def test_untrusted_csv_and_json_readers_parse_or_refuse(blob):
    for parse in (lambda b: untrusted.parse_json(b, "x.json"), untrusted.parse_jsonl, untrusted.parse_csv):
        try:
            parse(blob)
        except untrusted.ImportRefused:
            pass
