"""Package list of the Enclave wheel (metadata and dependencies are in pyproject.toml).

The top-level ``resources/`` folder (fixed by the product's design card) is
installed as the package ``enclave_resources``, so that no package called
``resources`` lands in site-packages. pyproject.toml's ``packages.find`` cannot
rename a folder, hence this file.
"""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["engine", "engine.*", "gui", "gui.*"]) + ["enclave_resources"])
