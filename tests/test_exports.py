"""Exports and imports: run zips, config files, TensorBoard event files, timelapses, refusals of
hostile files, and the Timelapse and Export/import pages."""
from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from ganlib.cli import main  # noqa: E402
from ganlib.explore import sampling, timelapse  # noqa: E402
from ganlib.interchange import config_files, export  # noqa: E402
from ganlib.interchange.tensorboard import write_tensorboard  # noqa: E402
from ganlib.store.checkpoint_format import load_checkpoint, optimizers  # noqa: E402
from ganlib.store.checkpoints import load_handle  # noqa: E402
from ganlib.store.config import ConfigError, TrainConfig  # noqa: E402
from ganlib.store.run_folder import find_run  # noqa: E402
from tests.helpers import page  # noqa: E402
from tests.helpers import run as run_page  # noqa: E402


@pytest.fixture
def trained(runs_copy):
    """This module's copy of the session's tiny runs: the mlp_gan run has an EMA generator (so G,
    D and G_ema are all exported), 2 epochs and one checkpoint, at the end."""
    return runs_copy.root, runs_copy.mlp


def _evil_pickle(target: Path) -> bytes:
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(target),))

    return pickle.dumps({"G": Evil(), "config": {}}, protocol=2)


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)
    return buf.getvalue()


# ---- config files --------------------------------------------------------------------------------
def test_config_round_trips_through_json_and_yaml(tmp_path):
    cfg = TrainConfig(epochs=7, lr_g=1e-5, lr_d=3e-4, dropout=0.25, seed=42, device="cpu", ema_decay=0.999,
                      diffaugment="translation,color", max_images=300, eval_every=0, label_smoothing=0.1,
                      loss="nonsaturating")
    for name in ("c.json", "c.yaml", "c.yml"):
        path = config_files.save_config_file(cfg, tmp_path / name)
        assert config_files.load_config_file(path) == cfg
    text = config_files.config_text(cfg, "yaml")
    assert text.startswith("#") and "lr_g: 1.0e-05" in text and "dropout: 0.25" in text
    assert config_files.parse_config_text(config_files.config_text(TrainConfig(), "yaml"), "yaml") == TrainConfig()
    (tmp_path / "bad.yaml").write_text("epochs: 3\nwings: 2\n")
    with pytest.raises(ConfigError, match="wings"):
        config_files.load_config_file(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="one mapping"):
        config_files.load_config_file(tmp_path / "list.yaml")
    (tmp_path / "broken.yaml").write_text("epochs: [3\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        config_files.load_config_file(tmp_path / "broken.yaml")
    with pytest.raises(ValueError, match=r"\.json, \.yaml or \.yml"):
        config_files.load_config_file(tmp_path / "c.toml")


# ---- TensorBoard -----------------------------------------------------------------------------------
def test_tensorboard_reads_a_trained_runs_metrics(trained):
    """A real run's metrics.csv, read back by TensorBoard's own reader (tests/test_tensorboard.py
    checks the writer and the live logger on hand-made rows)."""
    _, run = trained
    path = write_tensorboard(run)
    assert path.parent == run.path / "tb" and path.name.endswith(".ganlib")
    acc = EventAccumulator(str(run.path / "tb"))
    acc.Reload()
    rows = run.metrics()
    numeric = {k for row in rows for k, v in row.items() if k != "epoch" and isinstance(v, float) and v == v}
    assert set(acc.Tags()["scalars"]) == numeric and {"d_loss", "g_loss"} <= numeric
    for tag in numeric:
        events = acc.Scalars(tag)
        has = [r for r in rows if isinstance(r.get(tag), float) and r[tag] == r[tag]]  # FID: the evaluated epochs
        assert [e.step for e in events] == [int(r["epoch"]) for r in has]
        for e, row in zip(events, has):
            assert e.value == np.float32(row[tag])  # stored as float32, exactly
    assert write_tensorboard(run) and len(list((run.path / "tb").iterdir())) == 1  # replaced, not added


# ---- zip export and import ------------------------------------------------------------------------
def test_zip_round_trip_samples_identically(trained, tmp_path):
    _, run = trained
    data = export.export_zip(run)
    names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    top = run.name
    assert {f"{top}/{n}" for n in ("manifest.json", "config.json", "metrics.csv", "weights/G.safetensors",
                                   "weights/D.safetensors", "weights/G_ema.safetensors",
                                   "samples/epoch_0000.png", "samples/epoch_0001.png", "samples/epoch_0002.png",
                                   "evals.jsonl")} == names
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read(f"{top}/manifest.json"))
    assert manifest["format_version"] == export.ZIP_FORMAT_VERSION and manifest["epoch"] == 2
    assert manifest["model"] == "mlp_gan" and manifest["checkpoint"] == "ckpt/epoch_0002.pt"

    new = export.import_file(data, f"{top}.zip", runs_root=tmp_path)
    assert new.path.parent == tmp_path
    assert new.config() == run.config() and json.dumps(new.metrics()) == json.dumps(run.metrics())  # NaN too
    assert [e for e, _ in new.samples()] == [0, 1, 2] and [e for e, _ in new.checkpoints()] == [2]
    assert new.status()["state"] == export.IMPORTED_STATE and export.is_imported(new)
    ck = load_checkpoint(new.latest_checkpoint())
    assert ck["imported"] is True and optimizers(ck) == {} and ck["G_ema"] is not None
    h = load_handle(new.latest_checkpoint())
    assert h.epoch == 2 and not h.G.training
    a = sampling.generate(run, 16, seed=11).images
    b = sampling.generate(new, 16, seed=11).images
    assert (a == b).all()


def test_cli_export_import_config_and_tensorboard(trained, tmp_path, capsys):
    root, run = trained
    out = tmp_path / "run.zip"
    assert main(["export", run.name, "--runs-dir", str(root), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out) and zipfile.is_zipfile(out)
    dest = tmp_path / "imported"
    assert main(["import", str(out), "--runs-dir", str(dest)]) == 0
    new = find_run(capsys.readouterr().out.strip())
    assert new.path.parent == dest and export.is_imported(new)
    assert main(["config", str(run.path), "--out", str(tmp_path / "c.yaml")]) == 0
    assert config_files.load_config_file(tmp_path / "c.yaml") == run.config()
    capsys.readouterr()
    assert main(["config", str(run.path)]) == 0
    assert config_files.parse_config_text(capsys.readouterr().out) == run.config()  # JSON on stdout
    assert main(["tensorboard", "--runs-dir", str(dest)]) == 0
    (event_file,) = (new.path / "tb").glob("events.out.tfevents.*")
    assert capsys.readouterr().out.strip() == str(event_file)
    assert main(["export", run.name, "--runs-dir", str(root), "--out", str(tmp_path / "x.tar")]) == 2
    assert main(["import", str(out), "--config", str(tmp_path / "c.yaml"), "--from-run", run.name]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and ".zip" in err[0] and "not both" in err[1]


def test_bare_weights_import_checks_the_architecture(trained, tmp_path):
    import torch

    _, run = trained
    ck = load_checkpoint(run.latest_checkpoint())
    buf = io.BytesIO()
    torch.save(ck["G"], buf)
    pt = buf.getvalue()
    with pytest.raises(export.ImportRefused, match="carries no config"):
        export.import_file(pt, "g.pt", runs_root=tmp_path)
    wide = run.config().replace(latent_dim=64)
    with pytest.raises(export.ImportRefused, match=r"G does not fit mlp_gan.*latent 64.*net\.0\.weight: shape "
                                                   r"\[256, 100\] in the file, \[256, 64\] in the model"):
        export.import_file(pt, "g.pt", cfg=wide, runs_root=tmp_path)
    conv = TrainConfig(model="dcgan", device="cpu", max_images=256, batch_size=64, epochs=1)
    with pytest.raises(export.ImportRefused, match=r"mismatches: missing .*; and \d+ more"):
        export.import_file(pt, "g.pt", cfg=conv, runs_root=tmp_path)
    assert not list(tmp_path.iterdir())  # nothing written for a refused file

    new = export.import_file(pt, "g.pt", cfg=run.config(), epoch=5, runs_root=tmp_path)
    assert [e for e, _ in new.checkpoints()] == [5] and [e for e, _ in new.samples()] == [5]  # grid drawn once
    ck_new = load_checkpoint(new.latest_checkpoint())
    assert ck_new["G_ema"] is None and ck_new["D"] is None
    G = load_handle(new.latest_checkpoint()).G  # the plain G (the original samples from its EMA)
    assert all(torch.equal(v, ck["G"][k]) for k, v in G.state_dict().items())
    g_file = zipfile.ZipFile(io.BytesIO(export.export_zip(run))).read(f"{run.name}/weights/G.safetensors")
    again = export.import_file(g_file, "G.safetensors", runs_root=tmp_path)  # carries its config
    assert again.config() == run.config()


def test_hostile_pickle_is_refused_and_never_runs(trained, tmp_path):
    _, run = trained
    target = tmp_path / "pwned"
    evil = _evil_pickle(target)
    roots = tmp_path / "runs"
    for name in ("evil.pt", "evil.pth"):
        with pytest.raises(export.ImportRefused, match="not a plain weights file"):
            export.import_file(evil, name, cfg=run.config(), runs_root=roots)
    with pytest.raises(export.ImportRefused, match="not a valid safetensors"):
        export.import_file(evil, "evil.safetensors", cfg=run.config(), runs_root=roots)
    assert not target.exists() and not roots.exists()


def test_zips_with_traversal_pickles_or_links_are_refused(trained, tmp_path):
    _, run = trained
    good = zipfile.ZipFile(io.BytesIO(export.export_zip(run)))
    members = {n: good.read(n) for n in good.namelist()}
    target = tmp_path / "pwned"
    g_name = f"{run.name}/weights/G.safetensors"
    cases = {
        "../evil.json": (f"{run.name}/../evil.json", b"{}", "unsafe path"),
        "absolute": ("/tmp/evil.json", b"{}", "unsafe path"),
        "backslash": ("..\\evil.json", b"{}", "unsafe path"),
        "pickle member": (f"{run.name}/weights/G.pt", _evil_pickle(target), "not accepted"),
        "pickle as pkl": ("data.pkl", _evil_pickle(target), "not accepted"),
        "pickle disguised": (g_name, _evil_pickle(target), "not a valid safetensors"),
        "bad png": (f"{run.name}/samples/epoch_0001.png", b"\x89PNG junk", "not a valid PNG"),
    }
    roots = tmp_path / "runs"
    for name, content, msg in cases.values():
        bad = _zip({**members, name: content})
        with pytest.raises(export.ImportRefused, match=msg):
            export.import_file(bad, "bad.zip", runs_root=roots)
    link = zipfile.ZipInfo(f"{run.name}/samples/link.png")
    link.external_attr = 0o120777 << 16
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(export.ImportRefused, match="symbolic link"):
        export.import_file(buf.getvalue(), "bad.zip", runs_root=roots)
    with pytest.raises(export.ImportRefused, match="no generator weights"):
        export.import_file(_zip({k: v for k, v in members.items() if k != g_name}), "x.zip", runs_root=roots)
    with pytest.raises(export.ImportRefused, match="not a readable zip"):
        export.import_file(b"PK\x03\x04 truncated", "x.zip", runs_root=roots)
    assert not target.exists() and not (tmp_path / "evil.json").exists() and not roots.exists()


# ---- timelapse ---------------------------------------------------------------------------------------
def test_timelapse_gif_has_one_labelled_frame_per_grid(trained, tmp_path):
    _, run = trained
    grids = run.samples()
    gif = Image.open(io.BytesIO(timelapse.timelapse_gif(run, fps=5, scale=2)))
    assert gif.n_frames == len(grids) == 3 and gif.info["loop"] == 0
    w, h = Image.open(grids[0][1]).size
    band = timelapse.band_height(2 * h)
    assert gif.size == (2 * w, 2 * h + band)
    bands = []
    for i in range(gif.n_frames):
        gif.seek(i)
        frame = gif.convert("L")
        top = frame.crop((0, 0, frame.width, band))
        assert min(top.getextrema()) < 100  # dark text on the white band
        bands.append(top.tobytes())
    assert bands[0] != bands[1]  # "epoch 0" and "epoch 1" differ
    labelled = timelapse.label_frame(Image.new("L", (40, 40), 128), "epoch 12")
    assert labelled.size == (40, 56)  # a 16-pixel band at least
    out = tmp_path / "t.gif"
    assert main(["timelapse", str(run.path), "--out", str(out)]) == 0 and Image.open(out).n_frames == 3
    assert main(["timelapse", str(run.path), "--out", str(tmp_path / "t.webm")]) == 2
    assert main(["timelapse", str(run.path), "--fps", "0"]) == 2


def test_timelapse_mp4_decodes_to_one_frame_per_grid(trained, tmp_path, capsys):
    _, run = trained
    out = tmp_path / "t.mp4"
    assert main(["timelapse", str(run.path), "--out", str(out), "--scale", "3"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    w, h = Image.open(run.samples()[0][1]).size
    want = (3 * w, 3 * h + timelapse.band_height(3 * h))
    want = (want[0] + want[0] % 2, want[1] + want[1] % 2)  # yuv420p: even sides, padded
    with av.open(str(out)) as box:
        (stream,) = box.streams.video
        assert stream.codec_context.name == "h264"
        decoded = [f.to_ndarray(format="rgb24") for f in box.decode(stream)]
    assert len(decoded) == len(run.samples()) == 3
    assert all(f.shape == (want[1], want[0], 3) for f in decoded)
    assert decoded[0][0].mean() > 200  # the white band above the grid (H.264 is lossy: about white)
    assert timelapse.timelapse_mp4(run, fps=2.5, scale=1)[4:8] == b"ftyp"  # any fps, in memory too


# ---- the page ----------------------------------------------------------------------------------------
def test_export_import_page(trained, monkeypatch, tmp_path):
    root, run = trained
    monkeypatch.setenv("GANLIB_RUNS_DIR", str(root))
    at = page("app_pages/export_import.py")
    at.session_state["exp_run"] = run.name
    run_page(at)
    assert at.download_button(key="exp_zip").label == "Download run zip"
    assert {at.download_button(key=k).label for k in ("exp_json", "exp_yaml")} == {"Download JSON", "Download YAML"}
    assert "model: mlp_gan" in at.code[0].value
    for p in (run.path / "tb").glob("*"):
        p.unlink()
    at.button(key="exp_tb").click()
    run_page(at)
    assert any("tfevents" in s.value for s in at.success) and len(list((run.path / "tb").iterdir())) == 1

    before = {p.name for p in root.iterdir()}
    at.file_uploader(key="imp_file").set_value((f"{run.name}.zip", export.export_zip(run), "application/zip"))
    run_page(at)
    at.button(key="imp_go").click()
    run_page(at)
    (new,) = {p.name for p in root.iterdir() if p.is_dir()} - before
    assert any(new in s.value and "for sampling only" in s.value for s in at.success)
    assert export.is_imported(find_run(root / new))

    evil = _evil_pickle(tmp_path / "pwned")
    at.file_uploader(key="imp_file").set_value(("evil.pt", evil, "application/octet-stream"))
    run_page(at)
    at.radio(key="imp_cfg_source").set_value("Same as a run")
    run_page(at)
    at.button(key="imp_go").click()
    run_page(at)
    assert any("Import refused" in e.value and "not a plain weights file" in e.value for e in at.error)
    assert not (tmp_path / "pwned").exists()
    assert {p.name for p in root.iterdir() if p.is_dir()} - before == {new}
