"""Issue 11, untrusted files: every corrupt, oversized or lying file is a one-line refusal that
names the file or field, before anything is allocated or written (items 1, 2, 3, 6, 7)."""
from __future__ import annotations

import io
import json
import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest
import safetensors.torch
import torch

from ganlib.cli import main
from ganlib.engine.training import train
from ganlib.interchange import export, untrusted
from ganlib.interchange.importing import import_file
from ganlib.store.config import TrainConfig
from ganlib.store.run_folder import Run
from ganlib.store.run_health import summary_row
from tests.helpers import rezip


@pytest.fixture(scope="module")
def run_zip(tmp_path_factory):
    """A tiny trained run (deflated zip members, as `export` writes them) and its members."""
    root = tmp_path_factory.mktemp("runs")
    cfg = TrainConfig(max_images=256, batch_size=64, epochs=1, device="cpu", eval_every=0, model="mlp_gan",
                      loss="nonsaturating", lr_g=2e-4, lr_d=2e-4, d_norm="batch")
    run = train(cfg, runs_dir=root).run
    data = export.export_zip(run)
    zf = zipfile.ZipFile(io.BytesIO(data))
    return data, run.name, {n: zf.read(n) for n in zf.namelist()}


def patched(data: bytes, member: str, *, flip: int = 0, declared: int | None = None) -> bytes:
    """`data` with `flip` bytes of `member`'s compressed data inverted, or its declared
    uncompressed size (local and central headers) set to `declared`."""
    out = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    name_len, extra_len = struct.unpack("<HH", out[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    mid = start + info.compress_size // 2
    for i in range(mid, mid + flip):
        out[i] ^= 0xFF
    if declared is not None:
        struct.pack_into("<I", out, info.header_offset + 22, declared)
        central = out.find(b"PK\x01\x02")
        while central >= 0:
            n = struct.unpack("<H", out[central + 28:central + 30])[0]
            if out[central + 46:central + 46 + n] == member.encode():
                struct.pack_into("<I", out, central + 24, declared)
                break
            central = out.find(b"PK\x01\x02", central + 4)
    return bytes(out)


def refused(capsys, data: bytes, tmp_path: Path, name: str = "run.zip") -> str:
    """Import through the CLI: exit 2, one line on stderr, no run folder made."""
    f = tmp_path / name
    f.write_bytes(data)
    dest = tmp_path / "dest"
    assert main(["import", str(f), "--runs-dir", str(dest)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert not dest.exists() or not any(dest.iterdir())
    return err[0]


# ---- 1. corrupt and oversized members ------------------------------------------------------------
def test_a_corrupt_member_is_a_one_line_refusal(run_zip, tmp_path, capsys):
    data, top, _ = run_zip
    msg = refused(capsys, patched(data, f"{top}/weights/G.safetensors", flip=64), tmp_path)
    assert "weights/G.safetensors" in msg and "corrupt" in msg
    msg = refused(capsys, patched(data, f"{top}/config.json", flip=2), tmp_path)
    assert "config.json" in msg and "corrupt" in msg


def test_a_member_that_lies_about_its_size_is_refused_without_inflating_it(run_zip, tmp_path, capsys):
    data, top, members = run_zip
    # 30 MiB that deflate to ~30 KiB, beside the config (no weights: their megabytes would blur the peak)
    config = f"{top}/config.json"
    zeros = rezip({f"{top}/metrics.csv": b"epoch\n" + b"0" * (30 << 20), config: members[config]})
    tracemalloc.start()
    try:
        msg = refused(capsys, patched(zeros, f"{top}/metrics.csv", declared=100), tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "metrics.csv" in msg and ("corrupt" in msg or "damaged" in msg)
    assert peak < 8 << 20  # the 30 MiB were never inflated whole


def test_declared_sizes_over_the_cap_are_refused_before_any_member_is_read(run_zip, monkeypatch):
    data, top, _ = run_zip
    big = data
    for member in (f"{top}/weights/G.safetensors", f"{top}/weights/D.safetensors", f"{top}/config.json"):
        big = patched(big, member, declared=int(0.9 * 2**30))  # three 0.9 GiB members in a small zip
    monkeypatch.setattr(untrusted, "_read_member", lambda *a: pytest.fail("a member was inflated"))
    with pytest.raises(untrusted.ImportRefused, match=r"would unpack to 2\.7 GiB; at most 2\.0 GiB"):
        import_file(big, "big.zip")


def test_inflating_past_the_cap_stops_at_the_cap(run_zip):
    """The count of inflated bytes is checked chunk by chunk (the declared sizes are checked
    before, so this is the guard for a zip reader that would trust them)."""
    _, top, members = run_zip
    zf = zipfile.ZipFile(io.BytesIO(rezip({f"{top}/metrics.csv": b"epoch\n" + b"1\n" * (3 << 20)})))
    with pytest.raises(untrusted.ImportRefused, match="metrics.csv' inflates to more than 1,048,576 bytes"):
        untrusted._read_member(zf, zf.infolist()[0], 1 << 20)
    assert len(untrusted._read_member(zf, zf.infolist()[0], 8 << 20)) == 6 + (6 << 20)


# ---- 2 and 6. untrusted numbers and tensors ---------------------------------------------------------
@pytest.mark.parametrize("member, change, words", [
    ("manifest.json", {"num_classes": "-2"}, "num_classes must be a whole number from 1 to 1000, got '-2'"),
    ("manifest.json", {"num_classes": 10**9}, "num_classes must be a whole number from 1 to 1000"),
    ("manifest.json", {"num_classes": "abc"}, "num_classes must be a whole number"),
    ("manifest.json", {"epoch": -5}, "manifest.json: epoch must be a whole number from 0 to 5000, got -5"),
    ("manifest.json", {"epoch": "abc"}, "manifest.json: epoch must be"),
    ("manifest.json", {"format_version": "x"}, "version x"),
    ("config.json", {"latent_dim": 10**8}, "latent_dim: must be between 1 and 1,024, got 100000000"),
    ("config.json", {"epochs": 1e300}, "epochs: must be between 1 and 5,000, got a number of 301 digits"),
    ("config.json", {"seed": 2**70}, "seed: must be between 0 and 2,147,483,647"),
    ("config.json", {"gradient_penalty": "maybe"}, "gradient_penalty: expected true or false"),
])
def test_untrusted_numbers_are_checked_against_the_config_bounds(run_zip, tmp_path, capsys, member, change, words):
    _, top, members = run_zip
    values = {**json.loads(members[f"{top}/{member}"]), **change}
    msg = refused(capsys, rezip({**members, f"{top}/{member}": json.dumps(values).encode()}), tmp_path)
    assert words in msg


@pytest.mark.parametrize("text, words", [
    ("epoch,d_loss\nabc,1\n", "metrics.csv line 2: epoch must be a whole number from 0 to 5000, got 'abc'"),
    ("epoch,d_loss\n1,1\n1e400,1\n", "metrics.csv line 3: epoch"),
    ("epoch,d_loss\nnan,1\n", "metrics.csv line 2"),
])
def test_an_imported_metrics_csv_must_have_epoch_numbers(run_zip, tmp_path, capsys, text, words):
    _, top, members = run_zip
    assert words in refused(capsys, rezip({**members, f"{top}/metrics.csv": text.encode()}), tmp_path)


@pytest.mark.parametrize("spoil, words", [
    (lambda t: t.half(), "float16 in the file, float32 in the model"),
    (lambda t: t.long(), "int64 in the file, float32 in the model"),
    (lambda t: t.bool(), "bool in the file, float32 in the model"),
    (lambda t: torch.full_like(t, float("nan")), "hold NaN or inf"),
])
def test_weights_of_the_wrong_dtype_or_not_finite_are_refused(run_zip, tmp_path, capsys, spoil, words):
    _, top, members = run_zip
    name = f"{top}/weights/G.safetensors"
    tensors = safetensors.torch.load(members[name])
    meta = untrusted._safetensors_metadata(members[name])
    bad = {k: spoil(v) if v.is_floating_point() else v for k, v in tensors.items()}
    msg = refused(capsys, rezip({**members, name: safetensors.torch.save(bad, metadata=meta)}), tmp_path)
    assert words in msg and msg.startswith("error: G")


def test_safetensors_metadata_sizes_are_checked_before_building(run_zip, tmp_path, capsys):
    _, top, members = run_zip
    g = members[f"{top}/weights/G.safetensors"]
    meta = untrusted._safetensors_metadata(g)
    meta["num_classes"] = str(10**9)
    msg = refused(capsys, safetensors.torch.save(safetensors.torch.load(g), metadata=meta), tmp_path, "G.safetensors")
    assert "G.safetensors metadata: num_classes must be a whole number from 1 to 1000" in msg
    meta = untrusted._safetensors_metadata(g)
    meta["ganlib_config"] = json.dumps({**json.loads(meta["ganlib_config"]), "latent_dim": 10**8})
    msg = refused(capsys, safetensors.torch.save(safetensors.torch.load(g), metadata=meta), tmp_path, "G.safetensors")
    assert "latent_dim: must be between 1 and 1,024" in msg


# ---- 7. the refusal of a pickle does not advise the unsafe load --------------------------------------
class Thing:
    """Not a tensor or a plain container: weights_only refuses to rebuild it."""


def test_a_pickle_refusal_does_not_quote_torchs_advice(tmp_path, capsys):
    buf = io.BytesIO()
    torch.save({"G": Thing()}, buf)
    msg = refused(capsys, buf.getvalue(), tmp_path, "G.pt")
    assert "not a plain weights file" in msg and "G.pt" in msg
    assert "weights_only" not in msg and "Re-running" not in msg


# ---- 3. a listing survives one bad run ------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["abc", "1e400", "nan", "-3", "2.5"])
def test_runs_lists_every_run_when_one_metrics_csv_is_bad(run_zip, tmp_path, capsys, bad):
    data, _, _ = run_zip
    good, broken = import_file(data, "a.zip", runs_root=tmp_path), import_file(data, "b.zip", runs_root=tmp_path)
    broken.write_metrics_csv(f"epoch,d_loss,g_loss\n1,0.5,0.7\n{bad},x,1e400\n")
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert good.name in out and broken.name in out
    row = summary_row(Run(broken.path))
    shown = {"1e400": "inf", "-3": "-3.0"}.get(bad, bad)  # as the cell reads: a number where it is one
    assert row["epoch"] is None and f"metrics.csv: the last epoch is {shown}" in row["error"].replace("'", "")
    assert row["d_loss"] is None  # "x" is no loss


# ---- issue 24: imported run files are validated row by row -----------------------------------------
def test_a_ragged_metrics_csv_is_refused_naming_the_file_and_the_line(run_zip, tmp_path):
    from ganlib.interchange.untrusted import ImportRefused, read_zip

    data, _, _ = run_zip
    members = read_zip(data)  # its top folder stripped; a zip without one imports the same
    lines = members["metrics.csv"].decode().splitlines()
    lines[1] += ",999"  # one field too many on the first data row
    members["metrics.csv"] = ("\n".join(lines) + "\n").encode()
    with pytest.raises(ImportRefused, match=r"metrics.csv line 2 has \d+ fields, its header \d+"):
        import_file(rezip(members), "ragged.zip", runs_root=tmp_path)
    assert not list(tmp_path.iterdir())  # nothing stored
