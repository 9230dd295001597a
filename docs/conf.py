"""Sphinx configuration of plait's documentation (``make docs``: warning-free, nitpicky)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "plait"
author = "the plait developers"
copyright = "the plait developers, Apache-2.0"

extensions = [
    "myst_nb",                 # Markdown (MyST) pages and the notebook tutorials
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",     # the Args:/Returns:/Raises: sections of the docstrings
    "plait_docs",              # the generated pages: API, sites, troubleshooting, CLI
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "generated/migration_table.md"]
root_doc = "index"
smartquotes = False            # keep "--account" and quotes as typed: they are commands

# A broken reference fails the build (-W): every plait name must resolve. Names outside plait
# (the standard library, third-party types in annotations) have no inventory offline.
nitpicky = True
# Type variables (``_T``) have no page either.
nitpick_ignore_regex = [(r"py:.*", r"(?!plait\b).*"), (r"py:class", r"plait\..*\._T\w*")]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"      # tests/docs run every notebook with nbclient instead

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = "furo"
html_title = "plait"
html_show_sourcelink = False
