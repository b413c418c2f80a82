"""GAN Workbench dashboard: `streamlit run app.py`.

The entry point only builds the navigation: every page is declared once, in
`ganlib.ui.navigation.PAGES` (Streamlit's `st.navigation` with `st.Page`, in sections), and
Home and the tests read the same list. The pages live in `app_pages/`, not `pages/`: Streamlit
would take a `pages/` folder for its legacy multipage app before this script runs. No page
imports torch; runs live in $GANLIB_RUNS_DIR (default: checkpoints/).
"""
import streamlit as st

from ganlib.ui import navigation

st.set_page_config(page_icon=":material/blur_on:", layout="wide")
navigation.build().run()
