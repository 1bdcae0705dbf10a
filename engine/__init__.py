"""Enclave engine: everything that computes. Never imports Qt."""

import os as _os

from engine import offline as _offline

_offline.enforce()
if _os.environ.get("ENCLAVE_BLOCK_NETWORK") == "1":
    _offline.block_network()
if _os.environ.get("ENCLAVE_JOB_PROCESS") == "1":  # a Python child of a job process
    from engine import netwall as _netwall

    _netwall.install_audit_hook()

__version__ = "0.1.0"
