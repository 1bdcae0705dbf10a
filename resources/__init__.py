"""Enclave's data files: app icon, Qt style sheets, default recipes, demo term tables.

This folder is installed as the package ``enclave_resources`` (see ``setup.py``),
so the files travel inside the wheel. Read them with
``importlib.resources.files("enclave_resources")`` — :mod:`engine.resources`
does that for the engine, :mod:`gui.theme` for the window. Nothing here is code.
"""
