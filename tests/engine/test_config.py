"""The recipe base: every recipe refuses unknown keys by their closest name, checks types and
bounds from its metadata, round-trips through TOML; `enclave validate` checks a file."""

import dataclasses
import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.cli.validate import recipe_classes
from engine.config import RecipeError

RECIPES = Path(__file__).resolve().parents[2] / "resources" / "recipes"
REQUIRED = {"evaluate": {"run_id": 1}}


def _json(capsys, *argv) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("section", sorted(recipe_classes()))
def test_every_recipe_shares_the_base(section, tmp_path):
    cls = recipe_classes()[section]
    recipe = cls.from_dict(REQUIRED.get(section, {}))
    assert all(item.metadata.get("help") for item in dataclasses.fields(cls)), section
    first = dataclasses.fields(cls)[0].name
    with pytest.raises(RecipeError, match=f"unknown field '{first}x'.*did you mean '{first}'"):
        cls.from_dict({**REQUIRED.get(section, {}), f"{first}x": 1})
    path = tmp_path / "r.toml"
    path.write_text(recipe.to_toml())
    assert cls.from_toml(path)[0] == recipe


def test_every_shipped_recipe_validates(capsys):
    for path in sorted(RECIPES.glob("*.toml")):
        code, out = _json(capsys, "validate", str(path))
        assert code == 0 and out["recipes"], path


@pytest.mark.parametrize("text, message", [
    ("[trian]\nrank = 4\n", "unknown table [trian] (did you mean 'train'?)"),
    ("[train]\nlearnig_rate = 1e-4\n", "unknown field 'learnig_rate' (did you mean "
                                       "'learning_rate'?)"),
    ("[train]\nrank = 0\n", "[train]: rank must be >= 1, got 0"),
    ("[clean]\nnear_threshold = 2.0\n", "[clean]: near_threshold must be <= 1.0"),
    ("[select]\nmethod = 'best'\n", "[select]: method must be one of"),
    ("[compress]\nsparsity = 'half'\n", "'sparsity': 'half' is not a valid float"),
    ("[import]\ntest_fraction = 1.0\n", "[import]: test_fraction must be < 1"),
    ("recipe_version = 7\n[dpo]\nbeta = 0.2\n", "recipe_version 7 is newer"),
    ("[train\n", "not valid TOML"),
    ("base = 'smollm2'\n", "no recipe table"),
])
def test_bad_files_are_named_with_the_field(capsys, tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code, out = _json(capsys, "validate", str(path))
    assert code == 1 and message in out["error"] and str(path) in out["error"]


def test_container_fields_take_their_container_only():
    from engine.config import Recipe, option

    @dataclasses.dataclass
    class Columns(Recipe):
        SECTION = "columns"
        plain: dict | None = option(None, "a plain dict")
        typed: list[str] = option(help="a typed list", default_factory=list)

    assert Columns(plain={"text": 5}, typed=["a"]).plain == {"text": 5}
    with pytest.raises(RecipeError, match="plain must be dict or none, got \\[1\\]"):
        Columns(plain=[1])
    with pytest.raises(RecipeError, match="typed must be list"):
        Columns(typed={"a": 1})


def test_data_clean_reads_a_recipe_file(capsys, tmp_path):
    data = tmp_path / "qa.csv"
    data.write_text("question,answer\n" + "".join(f"What is item {i}?,It is {i}.\n"
                                                  for i in range(12)))
    assert main(["create-project", "Clinic"]) == 0
    assert main(["data", "import", "Clinic", str(data)]) == 0
    capsys.readouterr()
    recipe = tmp_path / "clean.toml"
    recipe.write_text("[clean]\ntokenizer = 'words'\nnear_dedup = false\n")
    code, out = _json(capsys, "data", "clean", "Clinic", "--recipe", str(recipe), "--dry-run")
    assert code == 0 and out["ok"], out
    recipe.write_text("[clean]\ntokeniser = 'words'\n")
    code, out = _json(capsys, "data", "clean", "Clinic", "--recipe", str(recipe), "--dry-run")
    assert code == 1 and "did you mean 'tokenizer'" in out["error"]
