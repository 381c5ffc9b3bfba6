"""decisions: filled by a later issue; says what it will hold."""
import streamlit as st

from ui.common import tr

st.title(tr("nav_decisions"))
st.info(tr("placeholder_intro") + " " + tr("placeholder_decisions"))
