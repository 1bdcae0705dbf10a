import pytest

from engine.select.recipe import RecipeError, SelectionRecipe, parse_budget, resolve_budget


@pytest.mark.parametrize("budget,n,rows", [("10%", 1000, 100), ("0.5%", 1000, 5),
                                           ("0.5 %", 100, 1), ("100%", 7, 7), ("25", 30, 25),
                                           (3, 3, 3)])
def test_budget_as_count_or_percentage(budget, n, rows):
    assert resolve_budget(budget, n) == rows


@pytest.mark.parametrize("budget,message", [("0", "above 0"), ("0%", "above 0"),
                                            ("-3", "above 0"), ("101%", "above 100 %"),
                                            ("lots", "neither a count"),
                                            ("2.5", "whole number")])
def test_bad_budgets_are_clear_errors(budget, message):
    with pytest.raises(RecipeError, match=f"budget: .*{message}"):
        SelectionRecipe(budget=budget)


def test_empty_dataset_and_too_large_count():
    with pytest.raises(RecipeError, match="dataset is empty"):
        resolve_budget("10%", 0)
    with pytest.raises(RecipeError, match="50 rows asked for, but the dataset has only 20"):
        resolve_budget(50, 20)


def test_recipe_fields_are_checked_and_round_trip():
    with pytest.raises(RecipeError, match="method must be one of .*got 'best'"):
        SelectionRecipe(method="best")
    with pytest.raises(RecipeError, match="k: must be at least 1"):
        SelectionRecipe(k=0)
    with pytest.raises(RecipeError, match=r"unknown field 'methd' \(did you mean 'method'\?\)"):
        SelectionRecipe.from_dict({"methd": "kmeans"})
    recipe = SelectionRecipe(method="facility", budget="5%", seed=4)
    assert SelectionRecipe.from_dict(recipe.to_dict()) == recipe
    assert parse_budget("5%") == ("percent", 5.0)
