import socket
import subprocess
import sys

import pytest

from engine.offline import RemoteCodeRefused, refuse_remote_code


def test_remote_code_is_refused():
    with pytest.raises(RemoteCodeRefused, match="trust_remote_code is refused"):
        refuse_remote_code({"trust_remote_code": True})
    assert refuse_remote_code({}) == {"trust_remote_code": False, "local_files_only": True}


def test_blocked_process_cannot_reach_another_machine_but_loopback_works():
    script = (
        "import socket\n"
        "from engine.offline import block_network, NetworkBlocked\n"
        "block_network()\n"
        "try:\n"
        "    socket.create_connection(('192.0.2.1', 443), timeout=1)\n"
        "except NetworkBlocked as e:\n"
        "    print('blocked:', e)\n"
        "try:\n"
        "    socket.getaddrinfo('example.org', 443)\n"
        "except NetworkBlocked as e:\n"
        "    print('blocked:', e)\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)\n"
        "c = socket.create_connection(s.getsockname()); print('loopback ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert out.count("blocked: Enclave is offline") == 2 and "loopback ok" in out
    assert socket.socket.connect  # the test process itself is guarded by pytest-socket
