"""Packaged resources (resources/ installed as enclave_resources) load, and the
demo generators give the same bytes as before their term tables moved there."""

import fnmatch
import hashlib
import struct
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine import resources
from engine.data.demo_clinical import write_clinical
from engine.data.demo_legal import write_legal

ROOT = Path(__file__).resolve().parents[2]

# sha256 of the generators' output captured before the tables left the code.
BEFORE = {
    ("clinical", 0): "f88a0730211b7d1ae32b6e3a0fedd2e5eb2645a4fcad39846a5e9c8ba324c163",
    ("legal", 0): "002ed6bf3ea3dea162e082f208d50dfb9917c765ec7c41800007dc8c2c2084b9",
    ("legalmix", 0): "cd098263178047c84c6766115f0601a4ed887aa5783dee881c785d9c5e28efac",
    ("clinical", 3): "d6f0eab5e8bf3f1c370e77f4ab0a32493b1e34b9644fb06cb6afa98e7b43789c",
    ("legal", 3): "ba3d25d74b8f0f3a2d1f9919acf9de152c938adb28c3fb64165d1959eccb9dfe",
    ("legalmix", 3): "c8a583e661916980996553c67b3de52a62be3f441d43267e5da187942ca39cc2",
}


def test_icon_svg_and_every_png_size():
    root = ET.fromstring(resources.read_text("icons", "enclave.svg"))
    assert root.tag.endswith("svg") and root.get("viewBox") == "0 0 256 256"
    for size in resources.ICON_SIZES:
        data = resources.icon_png(size)
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (size, size)


def test_light_and_dark_style_sheets_style_the_same_widgets():
    light = resources.read_text("styles", "light.qss")
    dark = resources.read_text("styles", "dark.qss")
    selectors = [line for line in light.splitlines() if line.endswith("{")]
    assert "QPushButton#primary {" in selectors and light != dark
    assert selectors == [line for line in dark.splitlines() if line.endswith("{")]


def _recipe_file(tmp_path, name):
    path = tmp_path / f"{name}.toml"
    path.write_text(resources.recipe_text(name), encoding="utf-8")
    return path


def test_default_recipes_parse_with_their_stage_loaders(tmp_path):
    from engine.compress.recipe import CompressRecipe
    from engine.data.clean_recipe import CleanRecipe
    from engine.select.recipe import SelectionRecipe
    from engine.train import dpo_recipe
    from engine.train import recipe as train_recipe

    names = resources.recipe_names()
    assert {"clean", "select", "train-lora", "train-qlora", "train-classification",
            "train-dpo", "compress"} <= set(names)
    assert CleanRecipe.from_toml(_recipe_file(tmp_path, "clean"))[0] == CleanRecipe()
    lora, extra = train_recipe.load_toml(_recipe_file(tmp_path, "train-lora"))
    assert lora == train_recipe.TrainRecipe() and extra == {"base": "smollm2"}
    assert train_recipe.load_toml(_recipe_file(tmp_path, "train-qlora"))[0].method == "qlora"
    assert train_recipe.load_toml(_recipe_file(tmp_path, "train-classification"))[0].task == \
        "classification"
    assert dpo_recipe.load_toml(_recipe_file(tmp_path, "train-dpo"))[0] == dpo_recipe.DpoRecipe()
    assert SelectionRecipe.from_dict(resources.recipe("select")["select"]) == SelectionRecipe()
    assert CompressRecipe.from_dict(resources.recipe("compress")["compress"]) == CompressRecipe()


def test_demo_term_tables_load_as_tuples():
    clinical = resources.demo_terms("clinical_terms")
    assert len(clinical["conditions"]) >= 10 and isinstance(clinical["openings"], tuple)
    assert resources.demo_terms("legal_terms")["roles"][0] == ("Provider", "Client")
    assert "Maria" in resources.demo_terms("common_terms")["first_names"]


@pytest.mark.parametrize("seed", [0, 3])
def test_demo_generators_give_the_same_bytes_as_before_the_move(tmp_path, seed):
    path = tmp_path / "out.jsonl"
    writers = {"clinical": lambda: write_clinical(path, n=400, seed=seed),
               "legal": lambda: write_legal(path, n=300, seed=seed),
               "legalmix": lambda: write_legal(path, n=300, seed=seed, mixed_rate=0.5)}
    for name, write in writers.items():
        write()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == BEFORE[(name, seed)], name


def test_missing_resource_names_the_fix():
    with pytest.raises(resources.ResourceMissing, match="reinstall Enclave"):
        resources.read_text("styles", "no-such.qss")


def test_every_resource_file_is_declared_as_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "tool"]["setuptools"]["package-data"]["enclave_resources"]
    folder = ROOT / "resources"
    files = [p.relative_to(folder).as_posix() for p in folder.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".py"]
    assert files
    assert [f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)] == []
