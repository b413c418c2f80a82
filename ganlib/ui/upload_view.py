"""On a shared server a user trains on the teacher's data folders or on their own images: a zip
of images uploaded here is unpacked (by the untrusted-zip rules, bounded in size and count) into
their upload folder, whose path goes into the Train form's data path.

    upload_view.panel(settings, actor)
"""
from __future__ import annotations

import streamlit as st

from ganlib.interchange.untrusted import ImportRefused
from ganlib.interchange.uploads import unpack_images
from ganlib.store.access import Actor
from ganlib.store.server_settings import ServerSettings


def panel(settings: ServerSettings, actor: Actor) -> None:
    mine = settings.uploads_of(actor)
    roots = [str(r) for r in settings.roots_for(actor)[:-1]]
    st.caption("On this server, data paths must lie inside "
               + (", ".join(f"`{r}`" for r in roots) + " or " if roots else "")
               + f"your own uploads (`{mine}`).")
    up = st.file_uploader(f"A zip of images (at most {settings.upload_max_mb} MiB, {settings.upload_max_files:,} "
                          "files)", type=["zip"], key="upload_zip")
    if up is not None and st.button("Unpack", key="upload_go", icon=":material/unarchive:"):
        try:
            folder = unpack_images(up.getvalue(), up.name, mine, settings.upload_max_mb, settings.upload_max_files)
            st.success(f"Unpacked into `{folder}`: use it as the data path of the folder dataset.",
                       icon=":material/check:")
        except ImportRefused as e:
            st.error(f"Upload refused: {e}", icon=":material/block:")
    if mine.is_dir():
        folders = sorted(p for p in mine.iterdir() if p.is_dir() and not p.name.startswith("."))
        if folders:
            st.caption("Your uploads: " + ", ".join(f"`{p}`" for p in folders))
