"""A Streamlit user without a browser: Streamlit's own websocket protocol (`/_stcore/stream`,
its protobuf BackMsg / ForwardMsg) driven from Python, so that one process can simulate tens of
users on two cores where as many headless Chromiums would not fit.

    user = ProtocolUser("http://127.0.0.1:8501")
    run = user.open("Train")                        # a script run: seconds, texts, errors
    user.set("signin_name", "ada"); user.click("signin_submit")   # widgets by their user key
    run = user.rerun()
    user.poll_fragments()                           # what a browser's fragment timers send

What it does like the browser: it opens a page by its address (`page_name`), keeps every widget
it was shown (by the user key at the end of the widget id) and sends their states with each
rerun, presses buttons with a trigger value, and reruns each `st.fragment(run_every=...)` at its
interval as the frontend does (`auto_rerun`), forgetting the timers when a full run starts. What
it does not: render, run the Plotly and Vega JavaScript, or cache ForwardMsgs (it announces no
cached hashes, so the server sends every message whole). The server does all its own work for
it; the browser's own CPU is not counted.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import urlparse

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.sync.client import connect

FINISHED = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


@dataclass
class ScriptRun:
    seconds: float  # from sending the rerun to the server's "script finished"
    texts: list[str] = field(default_factory=list)  # markdown, captions, alerts, titles, in order
    errors: list[str] = field(default_factory=list)  # st.error / exceptions
    status: Optional[int] = None

    def has(self, text: str) -> bool:
        return any(text in t for t in self.texts)


class ProtocolUser:
    def __init__(self, url: str, timeout_s: float = 120.0):
        parsed = urlparse(url)
        self.ws = connect(f"ws://{parsed.netloc}/_stcore/stream", subprotocols=["streamlit"],
                          open_timeout=timeout_s, max_size=None)
        self.timeout_s = timeout_s
        self.page = ""
        self.widgets: dict[str, tuple[str, str, Any]] = {}  # user key -> (widget id, kind, proto)
        self.values: dict[str, WidgetState] = {}  # widget id -> the state we send
        self.triggers: set[str] = set()  # ids whose trigger fires once, with the next rerun
        self.fragments: dict[str, float] = {}  # fragment id -> interval s
        self._due: dict[str, float] = {}

    # ---- the conversation ------------------------------------------------------------------
    def open(self, page: str) -> ScriptRun:
        self.page = page
        self.widgets.clear(), self.values.clear(), self.fragments.clear()
        return self.rerun()

    def rerun(self, fragment_id: str = "") -> ScriptRun:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.page_name = self.page
        cs.fragment_id = fragment_id
        cs.is_auto_rerun = bool(fragment_id)
        cs.widget_states.widgets.extend(self.values.values())
        for wid in self.triggers:
            cs.widget_states.widgets.append(WidgetState(id=wid, trigger_value=True))
        self.triggers.clear()
        t0 = time.perf_counter()
        self.ws.send(msg.SerializeToString())
        out = ScriptRun(0.0)
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(self.ws.recv(timeout=self.timeout_s))
            kind = fwd.WhichOneof("type")
            if kind == "delta":
                self._delta(fwd, out)
            elif kind == "new_session" and not fwd.metadata.run.fragment_ids:
                # a full script run: like the browser, forget the fragments' timers; the run
                # registers again those that still poll (a finished job's live view does not)
                self.fragments.clear(), self._due.clear()
            elif kind == "auto_rerun":
                self.fragments[fwd.auto_rerun.fragment_id] = fwd.auto_rerun.interval
                self._due.setdefault(fwd.auto_rerun.fragment_id, time.monotonic() + fwd.auto_rerun.interval)
            elif kind == "stop_auto_rerun":
                for fid in fwd.stop_auto_rerun.fragment_ids:
                    self.fragments.pop(fid, None)
                    self._due.pop(fid, None)
            elif kind == "script_finished":
                out.status = fwd.script_finished
                if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # st.rerun(): the next run follows on its own
                out.seconds = time.perf_counter() - t0
                return out

    def poll_fragments(self) -> list[ScriptRun]:
        """Rerun every fragment whose interval has passed, as the browser's timers would."""
        runs = []
        now = time.monotonic()
        for fid, interval in list(self.fragments.items()):
            if self._due.get(fid, 0) <= now:
                self._due[fid] = now + interval
                runs.append(self.rerun(fid))
        return runs

    def next_due_s(self) -> Optional[float]:
        return max(0.0, min(self._due.values()) - time.monotonic()) if self._due else None

    def close(self) -> None:
        self.ws.close()

    # ---- widgets ---------------------------------------------------------------------------
    def has_widget(self, key: str) -> bool:
        return key in self.widgets

    def set(self, key: str, value: Any) -> None:
        wid, kind, proto = self.widgets[key]
        state = WidgetState(id=wid)
        if kind in ("text_input", "text_area"):
            state.string_value = str(value)
        elif kind == "number_input":
            if proto.data_type == proto.INT:
                state.int_value = int(value)
            else:
                state.double_value = float(value)
        elif kind == "checkbox":
            state.bool_value = bool(value)
        elif kind == "slider":  # a one-value slider
            state.double_array_value.data[:] = [float(value)]
        elif kind == "selectbox":  # the shown (formatted) option
            state.string_value = str(value)
        elif kind == "button_group":  # a segmented control: the shown option, in a list
            state.string_array_value.data[:] = [str(value)]
        else:
            raise ValueError(f"cannot set a {kind} ({key}) from the protocol client")
        self.values[wid] = state

    def click(self, key: str) -> None:
        wid, _, _ = self.widgets[key]
        self.triggers.add(wid)

    def _delta(self, fwd: ForwardMsg, out: ScriptRun) -> None:
        delta = fwd.delta
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        kind = el.WhichOneof("type")
        proto = getattr(el, kind) if kind else None
        if kind in ("markdown", "alert", "heading", "text", "caption", "toast"):
            body = getattr(proto, "body", "") or getattr(proto, "text", "")
            out.texts.append(body)
            if kind == "alert" and proto.format == proto.ERROR:
                out.errors.append(body)
        elif kind == "exception":
            out.errors.append(f"{proto.type}: {proto.message}")
        wid = getattr(proto, "id", "") if proto is not None else ""
        if wid and "-" in wid:
            key = wid.rsplit("-", 1)[1]
            if key and key != "None":
                self.widgets[key] = (wid, kind, proto)
