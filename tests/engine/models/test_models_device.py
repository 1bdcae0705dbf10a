from engine.models.device import DeviceInfo, detect


def test_detect_describes_a_device():
    info = detect()
    assert isinstance(info, DeviceInfo)
    assert info.kind in {"cuda", "mps", "cpu"}
    assert info.name
    assert info.memory_bytes > 0
    assert isinstance(info.bf16, bool)
