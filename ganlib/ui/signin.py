"""Who is using the dashboard: the gate every script run passes before any page draws, the
sign-in page, and the acting user every page hands to the library.

    signin.gate()          # app.py, before the navigation: refuses an unsafe address, signs users in
    actor = signin.actor() # LOCAL on a laptop; the signed-in user on a shared server

On a laptop (no server.toml, or `shared = false`) the gate only checks that the server listens
on loopback, and everyone is `access.LOCAL`. In shared mode nothing but the sign-in page renders
until a user signs in: with the school's identity provider (Streamlit's `st.login`, OIDC, when
.streamlit/secrets.toml has an [auth] section) or with a name and password from the users file.
A sign-in lasts `session_minutes`; failed ones are limited per name and per client.
"""
from __future__ import annotations

import time
from typing import Any, Optional

import streamlit as st

from ganlib.core.errors import BadValue
from ganlib.store.access import LOCAL, Actor
from ganlib.store.users import UsersFile
from ganlib.ui import resources

SIGNED_IN = "_ganlib_signed_in"  # session key owned by no widget: {"name", "role", "expires", "via"}


def oidc_configured() -> bool:
    """True when .streamlit/secrets.toml has an [auth] section for `st.login`."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def _oidc_user() -> Optional[dict[str, Any]]:
    try:
        user = st.user
        return dict(user) if user.get("is_logged_in") else None
    except Exception:  # noqa: BLE001 - auth not configured
        return None


def current() -> Optional[Actor]:
    """The signed-in user of this session, or None (never signed in, or the sign-in expired)."""
    rec = st.session_state.get(SIGNED_IN)
    if rec is None and oidc_configured() and (user := _oidc_user()) is not None:
        rec = _remember(_oidc_actor(user), "oidc")
    if rec is None:
        return None
    if time.time() > rec["expires"]:
        sign_out(expired=True)
        return None
    return Actor(rec["name"], rec["role"])


def actor() -> Actor:
    """The user a page acts for: LOCAL unless the server is shared (then the gate has signed
    one in, or stopped the script)."""
    if not resources.server_settings().shared:
        return LOCAL
    who = current()
    if who is None:  # a page run without the gate (it cannot happen through app.py)
        st.stop()
    return who


def _oidc_actor(user: dict[str, Any]) -> Actor:
    email = str(user.get("email") or user.get("sub") or "")
    role = "teacher" if email in resources.server_settings().teachers else "student"
    return Actor(email, role)


def _remember(who: Actor, via: str) -> dict[str, Any]:
    minutes = resources.server_settings().session_minutes
    rec = {"name": who.name, "role": who.role, "via": via, "expires": time.time() + 60 * minutes}
    st.session_state[SIGNED_IN] = rec
    return rec


def sign_out(expired: bool = False) -> None:
    rec = st.session_state.pop(SIGNED_IN, None)
    if expired:
        st.session_state["_ganlib_signin_note"] = "Your session expired: sign in again."
    if rec and rec.get("via") == "oidc":
        st.logout()


def gate() -> None:
    """Run before anything else draws: stop the script with the reason when this server must
    not serve on its address, or with the sign-in page when a shared server has nobody signed in."""
    settings = resources.server_settings()
    why = settings.startup_refusal(st.get_option("server.address"), oidc_configured())
    if why:
        st.error(why, icon=":material/block:")
        st.stop()
    if not settings.shared:
        return
    who = current()
    if who is None:
        signin_page()
        st.stop()
    with st.sidebar:
        st.caption(f"Signed in as **{who.name}** ({who.role})")
        st.button("Sign out", key="signout", icon=":material/logout:", on_click=sign_out)


def signin_page() -> None:
    settings = resources.server_settings()
    st.title("GAN Workbench: sign in")
    note = st.session_state.pop("_ganlib_signin_note", None)
    if note:
        st.info(note, icon=":material/schedule:")
    if oidc_configured():
        st.button("Sign in with your school account", key="signin_oidc", type="primary", icon=":material/login:",
                  on_click=st.login)
    if not UsersFile(settings.users_path).can_sign_in():
        return
    with st.form("signin", border=True):
        name = st.text_input("Name", key="signin_name", autocomplete="username")
        password = st.text_input("Password", key="signin_password", type="password",
                                 autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary", icon=":material/login:", key="signin_submit")
    if submitted:
        problem = try_sign_in(name.strip(), password)
        if problem:
            st.error(problem, icon=":material/block:")
        else:
            st.rerun()


def try_sign_in(name: str, password: str) -> Optional[str]:
    """Sign this session in, or say why not (a wrong name or password, or too many tries)."""
    settings = resources.server_settings()
    limiter = resources.signin_limiter()
    client = st.context.ip_address
    wait = limiter.wait_s(name, client)
    if wait > 0:
        return f"Too many failed sign-ins: try again in {int(wait) + 1} s."
    try:
        who = UsersFile(settings.users_path).verify(name, password)
    except BadValue as e:  # the users file itself is broken: the teacher must see why
        return str(e)
    if who is None:
        limiter.failed(name, client)
        return "Wrong name or password."
    limiter.succeeded(name)
    _remember(who, "password")
    return None
