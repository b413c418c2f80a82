"""Export and import: a run as a zip (config, metrics, grids, safetensors weights), its config as
JSON or YAML, its metrics as TensorBoard logs; a zip or a weights file back in as a new run."""
from pathlib import Path

import streamlit as st

from ganlib.core.errors import ConfigError
from ganlib.interchange import config_files, export, tensorboard
from ganlib.store.access import may_manage
from ganlib.ui import pickers, signin

LAST_IMPORT = "_exp_last_import"  # session key owned by no widget: the run the last import made

st.title("Export and import")
me = signin.actor()  # a shared server's users export their own runs (the library refuses the others)
runs = pickers.list_runs()
tab_export, tab_import = st.tabs(["Export", "Import"])

# ---- export ------------------------------------------------------------------------------------
def export_tab() -> None:
    if not runs:
        pickers.no_runs_info("Export")
        return
    c_run, c_ck = st.columns([2, 1])
    with c_run:
        run = pickers.pick_run(runs, key="exp_run")
    ckpt = pickers.pick_checkpoint(run, "exp", c_ck, label="Weights from")
    try:
        cfg = run.config()
    except (ConfigError, ValueError, OSError) as e:
        st.error(f"{run.name} has no readable config: {e}", icon=":material/error:")
        return

    mine = may_manage(me, run.owner())
    if not mine:
        st.info(f"{run.name} is {run.owner() or 'an older run'}'s: you can read it on every page, and export or "
                "write logs only for your own runs.", icon=":material/lock:")
    st.subheader("Run zip")
    st.caption("config.json, metrics.csv, evals.jsonl, the sample grids, and G, D (and G_ema) as "
               "safetensors from the chosen checkpoint, with a manifest.json.")
    if ckpt is None:
        st.warning("This run has no checkpoint yet, so there are no weights to export.")
    elif mine:
        st.download_button("Download run zip", lambda: export.export_zip(run, ckpt, me), f"{run.name}.zip",
                           "application/zip", key="exp_zip", icon=":material/folder_zip:", on_click="ignore")

    st.subheader("Config")
    st.caption("Reproduce the run from the command line: `python -m ganlib train --config FILE`.")
    yaml_text = config_files.config_text(cfg, "yaml")
    row = st.container(horizontal=True)
    row.download_button("Download JSON", config_files.config_text(cfg, "json"), f"{run.name}.json",
                        "application/json", key="exp_json", icon=":material/download:", on_click="ignore")
    row.download_button("Download YAML", yaml_text, f"{run.name}.yaml", "application/yaml",
                       key="exp_yaml", icon=":material/download:", on_click="ignore")
    with st.expander("Show the YAML"):
        st.code(yaml_text, language="yaml")

    st.subheader("TensorBoard")
    st.caption(f"Writes `tb/` event files from metrics.csv; then run `tensorboard --logdir {pickers.runs_root()}`.")
    row = st.container(horizontal=True)
    if row.button("Write TensorBoard logs", key="exp_tb", icon=":material/insights:", disabled=not mine):
        try:
            st.success(f"Wrote `{tensorboard.write_tensorboard(run, me)}`", icon=":material/check:")
        except (OSError, ValueError) as e:
            st.error(f"Could not write the logs: {e}", icon=":material/error:")
    if row.button("Write for every run", key="exp_tb_all", icon=":material/select_all:"):
        paths = tensorboard.write_tensorboard_all(pickers.runs_root(), me)
        st.success(f"Wrote event files for {len(paths)} run{'s' if len(paths) != 1 else ''}.", icon=":material/check:")


with tab_export:
    export_tab()

# ---- import ------------------------------------------------------------------------------------
with tab_import:
    st.caption("A zip from **Export** brings its own config. A bare `.safetensors` or `.pt` state dict needs the "
               "config it was trained with; it is checked against that architecture before anything is "
               "written. `.pt` files are read with `weights_only=True`: pickled objects or code are refused. "
               "An imported run has no optimizer state: it can be sampled, not resumed.")
    up = st.file_uploader("Run zip or weights file", type=["zip", "safetensors", "pt", "pth"], key="imp_file")
    cfg_override = None
    ready = up is not None
    num_classes = None
    if up is not None and not up.name.lower().endswith(".zip"):
        sources = ["Stored in the file", "Same as a run", "A config file"]
        source = st.radio("Config", sources, key="imp_cfg_source", horizontal=True,
                          help="Weights exported by GAN Workbench carry their config; others need one.")
        if source == "Same as a run":
            if not runs:
                st.warning("No runs to take a config from; upload a config file instead.")
                ready = False
            else:
                by_name = {r.name: r for r in runs}
                name = st.selectbox("Run", list(by_name), index=len(by_name) - 1, key="imp_cfg_run")
                cfg_override = by_name[name].config()
        elif source == "A config file":
            cf = st.file_uploader("Config (.json, .yaml)", type=["json", "yaml", "yml"], key="imp_cfg_file")
            if cf is None:
                ready = False
            else:
                try:
                    cfg_override = config_files.parse_config_text(cf.getvalue().decode("utf-8", "replace"),
                                                                  Path(cf.name).suffix)
                except (ValueError, ConfigError) as e:
                    st.error(f"{cf.name}: {e}", icon=":material/error:")
                    ready = False
        if source != "Stored in the file":  # else the file's own count
            num_classes = int(st.number_input("Classes (conditional models)", 1, 1000, 10, 1, key="imp_classes",
                                              help="How many labels the conditional generator was trained on."))
    if st.button("Import", key="imp_go", type="primary", disabled=not ready, icon=":material/upload:"):
        try:
            with st.spinner("Checking and importing..."):
                new = export.import_file(up.getvalue(), up.name, cfg=cfg_override, num_classes=num_classes,
                                         runs_root=pickers.runs_root(), owner=me.name)
            st.session_state[LAST_IMPORT] = new.name
        except (ValueError, ConfigError, OSError) as e:  # ImportRefused is a ValueError
            st.session_state.pop(LAST_IMPORT, None)  # the refusal replaces an earlier success
            st.error(f"Import refused: {e}", icon=":material/block:")
    last = st.session_state.get(LAST_IMPORT)
    if last:
        st.success(f"Imported as run **{last}**, for sampling only (it has no optimizer state to resume from). "
                   "Open **Generate**, the **Latent explorer** or **Real or fake** to sample it.",
                   icon=":material/check_circle:")
