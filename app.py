"""GAN Workbench dashboard: `streamlit run app.py`.

The entry point only passes the gate and builds the navigation. The gate (`ganlib.ui.signin`)
refuses to serve a non-loopback address unless shared mode with sign-in is set up, and on a
shared server shows nothing but the sign-in page until a user signs in. Every page is declared
once, in `ganlib.ui.navigation.PAGES` (Streamlit's `st.navigation` with `st.Page`, in sections),
and Home and the tests read the same list. The pages live in `app_pages/`, not `pages/`:
Streamlit would take a `pages/` folder for its legacy multipage app before this script runs.
No page imports torch; runs live in $GANLIB_RUNS_DIR (default: checkpoints/).
"""
import streamlit as st

from ganlib.ui import navigation, signin

st.set_page_config(page_icon=":material/blur_on:", layout="wide")
signin.gate()
navigation.build().run()
