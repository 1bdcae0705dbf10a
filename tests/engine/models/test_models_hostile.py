"""Hostile model folders: each is refused with a message naming the file and entry, never a
traceback, before transformers sees the folder."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from engine.cli import main
from engine.models.registry import ModelRefused, import_local

CONFIG = {"model_type": "llama", "architectures": ["LlamaForCausalLM"]}
GOOD_HEADER = {"a.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
               "b.bias": {"dtype": "BF16", "shape": [4], "data_offsets": [24, 32]},
               "__metadata__": {"format": "pt"}}


def _safetensors(path: Path, header: object, data: bytes = bytes(32), length: int | None = None,
                 raw: bytes | None = None) -> None:
    body = raw if raw is not None else json.dumps(header).encode()
    size = len(body) if length is None else length
    path.write_bytes(struct.pack("<Q", size) + body + data)


def _folder(root: Path, header: object = GOOD_HEADER, **kwargs) -> Path:
    folder = root / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(CONFIG))
    (folder / "tokenizer.json").write_text("{}")
    _safetensors(folder / "model.safetensors", header, **kwargs)
    return folder


def _entry(**fields) -> dict:
    return {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], **fields}}


def _link_out(name):
    def make(root):
        folder = _folder(root)
        outside = root / "outside"
        outside.mkdir()
        (outside / name).write_text("{}")
        (folder / name).unlink(missing_ok=True)
        (folder / name).symlink_to(outside / name)
        return folder
    return make


def _system_link(root):
    folder = _folder(root)
    (folder / "tokenizer.json").unlink()
    (folder / "tokenizer.json").symlink_to("/etc/passwd")
    return folder


def _folder_link_out(root):
    folder = _folder(root)
    (root / "elsewhere").mkdir()
    (folder / "1_Pooling").symlink_to(root / "elsewhere")
    return folder


def _fifo(name):
    def make(root):
        folder = _folder(root)
        os.mkfifo(folder / name)
        return folder
    return make


def _nested_config(root):
    folder = _folder(root)
    (folder / "config.json").write_text('{"model_type": "llama", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    return folder


def _bigint_config(root):
    folder = _folder(root)
    (folder / "config.json").write_text('{"model_type": "llama", "x": ' + "9" * 5000 + "}")
    return folder


def _header(header=None, **kwargs):
    return lambda root: _folder(root, header, **kwargs)


CASES = {
    "tokenizer.json links to a system file": (_system_link, r"tokenizer\.json.*outside"),
    "config.json links outside": (_link_out("config.json"), r"config\.json.*outside"),
    "weights link outside": (_link_out("model.safetensors"), r"model\.safetensors.*outside"),
    "a sub-folder links outside": (_folder_link_out, r"1_Pooling.*outside"),
    "a named pipe among the files": (_fifo("special_tokens_map.json"),
                                     r"special_tokens_map\.json.*not a regular file"),
    "tokenizer.json is a named pipe": (_fifo("vocab.txt"), r"vocab\.txt.*not a regular file"),
    "header longer than the file": (_header(GOOD_HEADER, length=10_000), r"model\.safetensors.*header length"),
    "header length over 100 MB": (_header(GOOD_HEADER, length=200_000_000), r"model\.safetensors.*header length"),
    "file shorter than 8 bytes": (lambda r: _folder(r, raw=b"", length=0, data=b""),
                                  r"model\.safetensors"),
    "offsets past the end of the file": (_header(_entry(shape=[100], data_offsets=[0, 400])),
                                         r"model\.safetensors.*'w'.*data_offsets"),
    "10^15 parameters in 8 bytes": (_header(_entry(shape=[10**5, 10**5, 10**5])),
                                    r"model\.safetensors.*'w'"),
    "header is a list": (_header([1, 2, 3]), r"model\.safetensors.*JSON object"),
    "header is a string": (_header("hello"), r"model\.safetensors.*JSON object"),
    "entry is a number": (_header({"w": 5}), r"model\.safetensors.*'w'"),
    "shape is a string": (_header(_entry(shape="abc")), r"'w'.*shape"),
    "shape holds a negative": (_header(_entry(shape=[-2])), r"'w'.*shape"),
    "shape holds true": (_header(_entry(shape=[True, 2])), r"'w'.*shape"),
    "shape holds a float": (_header(_entry(shape=[2.0])), r"'w'.*shape"),
    "dtype is a number": (_header(_entry(dtype=5)), r"'w'.*dtype"),
    "dtype unknown": (_header(_entry(dtype="F128")), r"'w'.*dtype"),
    "offsets not a pair": (_header(_entry(data_offsets=[0, 4, 8])), r"'w'.*data_offsets"),
    "offsets reversed": (_header(_entry(data_offsets=[8, 0])), r"'w'.*data_offsets"),
    "offsets are strings": (_header(_entry(data_offsets=["0", "8"])), r"'w'.*data_offsets"),
    "offsets overlap": (_header({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                 "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}),
                        r"model\.safetensors.*overlap"),
    "offset with 5000 digits": (_header(raw=b'{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, '
                                        + b"9" * 5000 + b"]}}"), r"model\.safetensors"),
    "header nested 100,000 deep": (_header(raw=b'{"w": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
                                   r"model\.safetensors"),
    "header not UTF-8": (_header(raw=b'{"w\xff": 1}'), r"model\.safetensors"),
    "header not JSON": (_header(raw=b"{nope"), r"model\.safetensors.*JSON"),
    "metadata not an object": (_header({"__metadata__": [1]}), r"__metadata__"),
    "missing shape": (_header({"w": {"dtype": "F32", "data_offsets": [0, 8]}}), r"'w'.*shape"),
    "config.json nested 100,000 deep": (_nested_config, r"config\.json"),
    "config.json with a 5000-digit number": (_bigint_config, r"config\.json"),
}


def test_a_plain_folder_passes(tmp_path):
    info = import_local(_folder(tmp_path))
    assert info.parameters == 10 and info.dtype == "float32"


def test_a_link_inside_the_folder_is_fine(tmp_path):
    folder = _folder(tmp_path)
    (folder / "tokenizer.json").rename(folder / "real-tokenizer.json")
    (folder / "tokenizer.json").symlink_to("real-tokenizer.json")
    assert import_local(folder).parameters == 10


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_folder_is_refused_clearly(name, tmp_path, capsys):
    make, pattern = CASES[name]
    folder = make(tmp_path)
    with pytest.raises(ModelRefused, match=pattern):
        import_local(folder)
    assert main(["check-model", str(folder)]) == 1
    out, err = capsys.readouterr()
    assert "refused" in out + err and "Traceback" not in out + err


def test_loading_checks_the_folder_before_transformers(tmp_path, monkeypatch):
    from engine.models import loading

    folder = _system_link(tmp_path)
    with pytest.raises(ModelRefused, match="outside"):
        loading.load_causal_lm(folder)
    with pytest.raises(ModelRefused, match="outside"):
        loading.load_tokenizer(folder)
