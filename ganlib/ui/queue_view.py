"""A shared server's queue on the Train page: the jobs that train now and those that wait, in
order, with whose each is and its position; a user cancels their own waiting jobs (the job
manager refuses anyone else's), a teacher any.

    queue_view.panel(jm, actor)     # in an st.fragment that refreshes while jobs are active
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ganlib.core.errors import NotAllowed
from ganlib.engine.jobs import JobManager
from ganlib.store.access import Actor, may_manage


def rows(jm: JobManager) -> list[dict]:
    """Running jobs first, then the waiting ones in queue order."""
    running = [s for s in jm.jobs(series=False) if s["active"] and s["state"] != "waiting"]
    out = []
    for s in running + jm.queue():
        where = f"waiting: #{s['position']}" if s["state"] == "waiting" else \
            f"{s['state']}, epoch {s['epoch']}/{s['epochs']}"
        out.append({"job": s["id"], "user": s["owner"], "what": f"{s['model']} on {s['dataset']}", "state": where,
                    "run": s["run_name"] or ""})
    return out


def panel(jm: JobManager, actor: Actor) -> None:
    table = rows(jm)
    slots = jm.runner.slots
    if not table:
        st.caption(f"No job is training or waiting. {slots} job{'s train' if slots > 1 else ' trains'} at a time; "
                   "Start queues yours when the machine is busy.")
        return
    st.dataframe(pd.DataFrame(table), hide_index=True, key="queue_table")
    mine = [r for r in table if r["state"].startswith("waiting") and may_manage(actor, r["user"])]
    limits = jm.runner.limits
    st.caption(f"{slots} job{'s train' if slots > 1 else ' trains'} at a time, oldest first; each user may have "
               f"{limits.running} training and {limits.queued} waiting.")
    if mine:
        c_pick, c_go = st.columns([3, 1], vertical_alignment="bottom")
        job = c_pick.selectbox("Your waiting job", [r["job"] for r in mine], key="queue_cancel_pick",
                               format_func=lambda j: f"job {j} ({next(r['state'] for r in mine if r['job'] == j)})")
        if c_go.button("Cancel it", key="queue_cancel", icon=":material/cancel:"):
            try:
                jm.cancel(job, actor)
                st.toast(f"Cancelled job {job}.", icon=":material/cancel:")
            except NotAllowed as e:
                st.error(str(e), icon=":material/block:")
