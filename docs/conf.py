"""Sphinx configuration of the documentation site.

Build (from the repository root)::

    python -m pip install torch==2.13.0 -e '.[docs]'
    python -m sphinx -b html docs docs/_build/html

CI adds ``-W --keep-going`` (warnings are errors) and ``TTC_DOCS_SMALL=1`` (the gallery examples
run at a small size). Nothing is loaded from the network, at build time or when the pages are
viewed: MathJax comes from the ``sphinx-mathjax-offline`` wheel and is copied into ``_static``.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

os.environ.setdefault("MPLBACKEND", "Agg")

project = "Transformer theory companion"
author = "The transformer theory companion developers"
copyright = "2026, " + author
release = importlib.metadata.version("transformer-theory-companion")

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "ttc_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**/GALLERY_HEADER.rst", "examples/*.py", "_generated/*"]
templates_path = ["_templates"]

# --- MathJax from the sphinx-mathjax-offline wheel (no network) --------------------------------
_MATHJAX = Path(str(importlib.metadata.distribution("sphinx-mathjax-offline").locate_file(
    "sphinx-mathjax-offline/static")))
html_static_path = ["_static", str(_MATHJAX)]      # its mathjax/ folder lands in _static/mathjax
mathjax_path = "mathjax/tex-chtml.js"

# --- HTML -----------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "Transformer theory companion"
html_css_files = ["ttc.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 7,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"**": ["sidebar-nav-bs"]}
html_show_sourcelink = False
html_last_updated_fmt = None

# --- API reference --------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_typehints = "none"            # numpydoc's Parameters sections carry the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
intersphinx_mapping = {}              # no inventories fetched: the build runs offline

# --- MyST (the reference pages moved from the README) -----------------------------------------
myst_heading_anchors = 4
myst_enable_extensions = ["dollarmath"]

# --- gallery ----------------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "reset_modules": ("matplotlib",),
    "matplotlib_animations": False,
    "show_memory": False,
    "show_signature": False,
    "write_computation_times": False,   # its pages load DataTables from a CDN
}

nitpicky = False
