"""Model registry: bundled base models, import of a local folder, safe loading.

Heavy libraries are imported inside the functions of the submodules, so
importing this package stays light.
"""
