"""TrainConfig widgets drawn from the field metadata in `ganlib.store.config` (help, min, max, step,
choices, log), so a new config field shows up on the Train page without touching the page.

    values = config_form(defaults=TrainConfig().to_dict())   # raw widget values, by field
    cfg = TrainConfig.from_dict(values)                        # the config checks them

Rules: `choices` "datasets"/"models"/"losses" take names from the registries, a list becomes a
select box; `log` becomes a select slider over 1-2-5 log-spaced values; a numeric range of at
most MAX_SLIDER_STEPS steps is a slider, a wider one a number input; an Optional field gets a
"use the default" checkbox. Widget keys are `<prefix>_<field>` and keep their value for the
session, across page switches.

Layout: the boxes (each field's `group`, in BOX_ORDER) fill rows of COLUMNS slots (a box in `WIDE` takes two slots and
lays its widgets out in two columns). Seven boxes side by side left each about 100 px at a
1400 px window: values were cut ("mnist5", "mlp_g") and labels broke mid-word ("Dropo ut");
four slots a row give each box about 230 px, enough for every value and label.
"""
from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any, Collection, Optional

import streamlit as st

from ganlib.core.devices import resolve_device
from ganlib.core.errors import ConfigError, NotAllowed
from ganlib.data import NO_PATH_DATASETS, DatasetUnavailable, data_facts
from ganlib.models import MODELS
from ganlib.store.config import TrainConfig, changeable, field_specs, relevant_fields
from ganlib.store.config_rules import CHOICE_REGISTRIES, check_against_data, hidden_fields
from ganlib.store.presets import DATA, PRESETS, apply_preset, recipe, suggested_preset
from ganlib.store.server_settings import TEACHER_FIELDS
from ganlib.ui import resources, signin

MAX_SLIDER_STEPS = 120
# The boxes in page order (a field names its box in its metadata's `group`; a new box follows these).
BOX_ORDER = ("Data", "Model", "Optimiser", "Run", "Evaluation", "Speed", "Stabilisers", "Diffusion", "StyleGAN")
COLUMNS = 4  # box slots per row
WIDE = {"Stabilisers": 2}  # boxes that take two slots (widgets in two columns)
PATH_HINTS = {"folder": "Folder (or .zip) of images; class subfolders become labels",
              "zip": "A .zip of images (stylegan2-ada's dataset.json, or class subfolders)",
              "paired_folder": "Folder with train/ (A|B side by side) or A/train and B/train",
              "unpaired_folder": "Folder with trainA/, trainB/ (and testA/, testB/)"}
TRAIN_PREFILL = "train_prefill"  # a config for the Train form (a clone from Compare runs), consumed once
TRAIN_DEFAULTS = "_train_form_defaults"  # the last prefill or preset, kept as the form's defaults


def log_values(lo: float, hi: float, include: Optional[float] = None) -> list[float]:
    """1-2-5 steps per decade between lo and hi (plus `include`, a run's own odd value)."""
    vals = {float(f"{m}e{e}") for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
            for m in (1, 2, 5)}
    vals = {v for v in vals if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9)}
    if include is not None and include > 0:
        vals.add(float(include))
    return sorted(vals)


def _base_type(f: dataclasses.Field) -> tuple[type, bool]:
    hint = typing.get_type_hints(TrainConfig)[f.name]
    args = typing.get_args(hint)
    if typing.get_origin(hint) is typing.Union and type(None) in args:
        return next(a for a in args if a is not type(None)), True
    return hint, False


def _descriptions(reg) -> str:
    lines = []
    for name in reg.names():
        desc = getattr(reg.get(name), "description", None)
        if desc:
            lines.append(f"- **{name}**: {desc}")
    return "\n".join(lines)


def field_widget(f: dataclasses.Field, default: Any, key: str, values: dict[str, Any]) -> Any:
    """Draw one field's widget and return its value (None for a hidden or defaulted field)."""
    meta, name = f.metadata, f.name
    label = field_label(name)
    help_ = meta.get("help")
    base, optional = _base_type(f)
    choices = meta.get("choices")
    lo, hi, step = meta.get("min"), meta.get("max"), meta.get("step")
    # The default only for a widget the session has no value of yet: beside a value set through
    # the session state (a preset, a clone), a default makes Streamlit warn.
    first = key not in st.session_state

    if name == "data_path":
        ds = values.get("dataset", "")
        if ds in NO_PATH_DATASETS:
            return ""
        hint = PATH_HINTS.get(ds, "torchvision root (empty: the default data/ folder)")
        return st.text_input(label, value=(default or "") if first else None, key=key, help=help_,
                             placeholder=hint, persist_state="session")

    if isinstance(choices, str):  # a registry
        reg = CHOICE_REGISTRIES[choices]
        names = reg.names()
        desc = _descriptions(reg)
        index = names.index(default) if default in names else 0
        return st.selectbox(label, names, index=index if first else None, key=key, persist_state="session",
                            help=f"{help_}\n\n{desc}" if desc else help_)
    if isinstance(choices, (list, tuple)):
        opts = list(choices)
        if default not in opts:
            opts.append(default)
        return st.selectbox(label, opts, index=opts.index(default) if first else None, key=key, help=help_,
                            persist_state="session")

    if optional:  # e.g. dropout: a "use the default" checkbox, then the slider
        return _optional_widget(name, label, base, default, key, help_, lo, hi, step, values)

    if meta.get("log"):
        opts = log_values(lo, hi, include=default)
        return st.select_slider(label, options=opts, value=default if first else None, key=key, help=help_,
                                format_func=lambda v: f"{v:.0e}", persist_state="session")

    if base in (int, float) and lo is not None and hi is not None:
        step = step or (1 if base is int else (hi - lo) / 100)
        cast = int if base is int else float
        lo, hi, step, default = cast(lo), cast(hi), cast(step), cast(default)
        if (hi - lo) / step <= MAX_SLIDER_STEPS:
            return st.slider(label, lo, hi, default if first else None, step, key=key, help=help_,
                             persist_state="session")
        fmt = None if base is int else f"%.{max(0, -math.floor(math.log10(step)))}f"
        # No min/max on the box: Streamlit would only mark a value typed out of range in red and
        # keep the old one; taken as typed, the config's range check names the field and the
        # page disables Start.
        return st.number_input(label, value=default if first else None, step=step, format=fmt, key=key,
                               help=f"{help_} Range {lo:g} to {hi:g}.", persist_state="session")
    if base is bool:
        return st.checkbox(label, value=bool(default) and first, key=key, help=help_, persist_state="session")
    return st.text_input(label, value=("" if default is None else str(default)) if first else None, key=key,
                         help=help_, persist_state="session")


def _optional_widget(name, label, base, default, key, help_, lo, hi, step, values):
    model_default = None
    if name == "dropout":
        model = values.get("model")
        if model in MODELS:
            model_default = MODELS.get(model).default_dropout
    shown = f" ({model_default:g})" if model_default is not None else ""
    first = f"{key}_default" not in st.session_state  # a default beside a session value makes Streamlit warn
    use_default = st.checkbox(f"{label}: use the model's default{shown}", value=default is None and first,
                              key=f"{key}_default", help=help_, persist_state="session")
    start = default if default is not None else (model_default if model_default is not None else lo or 0)
    if base is float and lo is not None and hi is not None:
        initial = float(start)
        if use_default and model_default is not None:
            # The greyed slider shows the chosen model's value, also after the model changes; a
            # value given both ways makes Streamlit warn, so the session state alone sets it.
            st.session_state[key], initial = float(model_default), None
        value = st.slider(label, float(lo), float(hi), initial, float(step or 0.05), key=key,
                          disabled=use_default, persist_state="session")
    else:
        value = st.number_input(label, value=start, key=key, disabled=use_default, persist_state="session")
    return None if use_default else value


def config_form(defaults: Optional[dict[str, Any]] = None, prefix: str = "cfg",
                fixed: Collection[str] = ()) -> dict[str, Any]:
    """Every TrainConfig field as a widget, grouped in bordered boxes; returns {field: value}.
    `fixed` fields get no widget and keep their default (a fork cannot change its architecture);
    on a shared server the teacher's settings are fixed too (`TEACHER_FIELDS`)."""
    if resources.server_settings().shared:
        fixed = set(fixed) | set(TEACHER_FIELDS)
    defaults = {**TrainConfig().to_dict(), **(defaults or {})}
    fields = {f.name: f for f in field_specs()}
    groups: dict[str, list[str]] = {g: [] for g in BOX_ORDER}  # a field's box is its metadata's `group`
    for f in fields.values():
        if f.name not in fixed:
            groups.setdefault(f.metadata["group"], []).append(f.name)
    groups = {g: names for g, names in groups.items() if names}
    values: dict[str, Any] = {n: defaults.get(n) for n in fixed if n in fields}
    for row in box_rows(list(groups)):
        spans = [WIDE.get(g, 1) for g in row]
        cols = st.columns(spans + ([COLUMNS - sum(spans)] if sum(spans) < COLUMNS else []))
        for col, group in zip(cols, row):
            with col.container(border=True):
                st.markdown(f"**{group}**")
                inner = st.columns(WIDE[group]) if group in WIDE else [st.container()]
                shown = 0
                for n in groups[group]:
                    # Only the sliders that matter for the choices made so far (clip value only with
                    # WGAN, no discriminator options for a VAE...); a hidden field keeps its default.
                    current = {**defaults, **_widget_values(prefix, fields), **values}
                    hidden = hidden_fields(current, field_specs())
                    if n in hidden:  # a value it would refuse is not kept out of sight: the plain default
                        values[n] = fields[n].default if hidden[n] else defaults.get(n)
                        continue
                    with inner[shown % len(inner)]:
                        values[n] = field_widget(fields[n], defaults.get(n), f"{prefix}_{n}", values)
                    shown += 1
                if not shown:
                    st.caption(f"Not used by {values.get('model', defaults.get('model'))}.")
    return {n: values[n] for n in fields}  # declaration order


def box_rows(groups: list[str]) -> list[list[str]]:
    """The boxes in order, cut into rows of at most COLUMNS slots."""
    rows: list[list[str]] = [[]]
    for g in groups:
        if rows[-1] and sum(WIDE.get(x, 1) for x in rows[-1]) + WIDE.get(g, 1) > COLUMNS:
            rows.append([])
        rows[-1].append(g)
    return rows


def preset_picker(prefix: str = "cfg", key: str = "train_preset") -> str:
    """A select box of `store.presets.PRESETS`. Picking one refills every widget of the form
    (`<prefix>_<field>`) from the preset's config, which stays the form's defaults; every field
    remains editable. Returns the preset's name."""
    names = PRESETS.names()
    return st.selectbox("Preset", names, key=key, on_change=_apply_preset, args=(prefix, key),
                        persist_state="session",
                        help="Fills the whole form; change any field afterwards.\n\n"
                             + "\n".join(f"- **{n}**: {PRESETS.get(n).description}" for n in names))


def _apply_preset(prefix: str, key: str) -> None:
    """on_change of the preset box: runs before the page, so the widgets start from the preset."""
    fill_form(apply_preset(st.session_state[key]).to_dict(), prefix)


def preset_suggestion(values: dict[str, Any], prefix: str = "cfg", key: str = "train_preset") -> None:
    """Before Start, for data with a preset of its own (colour images: `suggested_preset`): one
    line naming it, with a button that puts its recipe into the form and keeps the form's data."""
    try:
        cfg = TrainConfig.from_dict(values)
    except (ConfigError, TypeError, ValueError):  # a half-filled form: its own errors say it
        return
    name = suggested_preset(cfg.channels, cfg.image_size)
    if name == "recommended":
        return
    have = cfg.to_dict()
    if all(have.get(k) == v for k, v in recipe(name).items()):
        st.caption(f"Recipe: **{name}**, the preset measured on colour images (docs/PERF.md, colour recipes).")
        return
    c_text, c_apply = st.columns([4, 1], vertical_alignment="center")
    c_text.info(f"Colour images at {cfg.image_size} px: the **{name}** preset is the recipe measured to learn colour "
                "images on a CPU (docs/PERF.md, colour recipes); the form's recipe differs.", icon=":material/palette:")
    data = {k: v for k, v in have.items() if k in DATA}
    c_apply.button("Use it", key=f"{prefix}_use_suggested_preset", on_click=_use_preset, args=(prefix, key, name, data),
                   icon=":material/check:", help=f"Fill the form from {name}, keeping the data fields as they are.")


def _use_preset(prefix: str, key: str, name: str, data: dict[str, Any]) -> None:
    """on_click: the preset box shows `name` and the form takes its recipe with the form's data."""
    st.session_state[key] = name
    fill_form({**apply_preset(name).to_dict(), **data}, prefix)


def fill_form(cfg: dict[str, Any], prefix: str = "cfg") -> None:
    """Set every widget of the form to `cfg` (call before the form is drawn, or in a callback)
    and keep `cfg` as the form's defaults. The values go into the widgets' session state: the
    browser holds each widget's value, so forgetting a key would not reset it."""
    for f in field_specs():
        if f.name not in cfg:
            continue
        key, value = f"{prefix}_{f.name}", cfg[f.name]
        base, optional = _base_type(f)
        if optional:
            st.session_state[f"{key}_default"] = value is None
            if value is None:
                continue  # the widget shows the model's own default
        st.session_state[key] = "" if value is None else base(value) if base in (int, float, bool, str) else value
    st.session_state[TRAIN_DEFAULTS] = {**TrainConfig().to_dict(), **cfg}
    st.session_state["train_mode"] = "New run"


def train_defaults(prefix: str = "cfg") -> Optional[dict[str, Any]]:
    """For the Train page, before the form: consume a pending prefill (a clone from Compare
    runs) into the widgets, and return the form's defaults (the last prefill or preset, or None)."""
    cfg = st.session_state.pop(TRAIN_PREFILL, None)
    if cfg:
        fill_form(cfg, prefix)
        st.toast(f"Form filled from a cloned {cfg.get('model', '')} run: change what you like and start.",
                 icon=":material/content_copy:")
    return st.session_state.get(TRAIN_DEFAULTS)


def preset_changes(name: str, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """{field: (preset's value, form's value)} for the fields edited after picking `name`."""
    base = apply_preset(name).to_dict()
    return {k: (base[k], v) for k, v in values.items() if k in base and v != base[k]}


LABEL_WORDS = {"lr": "LR", "ema": "EMA", "cpu": "CPU", "diffaugment": "DiffAugment", "d": "D", "g": "G", "gp": "GP",
               "gan": "GAN", "tensorboard": "TensorBoard"}


def field_label(name: str) -> str:
    """"ema_decay" -> "EMA decay": the field's words, acronyms in capitals."""
    words = [LABEL_WORDS.get(w, w) for w in name.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def number_widget(f: dataclasses.Field, value: Any, key: str, container=None) -> Any:
    """A number box for a numeric field (a checkbox for a switch), its range and step from the
    field's metadata: for forms where an exact value matters more than a slider (live edits)."""
    meta, (base, _) = f.metadata, _base_type(f)
    lo, hi, step = meta.get("min"), meta.get("max"), meta.get("step")
    where = container or st
    if base is bool:
        return bool(where.checkbox(field_label(f.name), bool(value), key=key, help=meta.get("help")))
    if base is int:
        return int(where.number_input(field_label(f.name), int(lo), int(hi), int(value), int(step or 1), key=key,
                                      help=meta.get("help")))
    fmt = "%.1e" if meta.get("log") else f"%.{max(0, -math.floor(math.log10(step)))}f" if step else None
    return float(where.number_input(field_label(f.name), float(lo), float(hi), float(value),
                                    float(step) if step else None, format=fmt, key=key, help=meta.get("help")))


def live_edit_widgets(cfg: dict[str, Any], prefix: str = "edit", columns: int = 3) -> dict[str, Any]:
    """A number box for every field a running job may change (`changeable("live")`) that
    matters for this config; returns {field: value}."""
    fields = {f.name: f for f in field_specs()}
    shown = [n for n in changeable("live") if n in relevant_fields(cfg)]
    cols = st.columns(columns)
    return {n: number_widget(fields[n], cfg[n], f"{prefix}_{n}", cols[i % columns]) for i, n in enumerate(shown)}


def _widget_values(prefix: str, fields) -> dict[str, Any]:
    """Values the user already set in widgets further down the form (they may decide what is
    relevant above them: gradient_penalty shows gp_weight)."""
    return {n: st.session_state[f"{prefix}_{n}"] for n in fields if f"{prefix}_{n}" in st.session_state}


# ---- checks a form makes before Start ------------------------------------------------------
def check_device(name: str) -> None:
    """Raise ConfigError now, in the page, for a device this machine does not have."""
    resolve_device(name)


def check_data(cfg) -> None:
    """Raise ConfigError now, in the page, for a config its data refuses (a batch larger than
    the data, a conditional model on unlabelled images, a missing folder), not after Start. On a
    shared server a data path outside the user's roots is refused first, before it is read."""
    try:
        resources.server_settings().confine(signin.actor(), cfg)
    except NotAllowed as e:
        raise ConfigError("data_path", str(e)) from None
    facts = _data_facts(cfg.dataset, cfg.data_path, cfg.image_size, cfg.max_images)
    if isinstance(facts, str):
        raise ConfigError("dataset", facts)
    if facts is not None:
        check_against_data(cfg, facts.n_images, facts.has_labels, facts.kind)


@st.cache_data(show_spinner="Reading the dataset...", max_entries=16, ttl=120)
def _data_facts(name: str, data_path: str, image_size: int, max_images: int):
    try:
        return data_facts(name, data_path, image_size, max_images)
    except DatasetUnavailable as e:
        return str(e)
