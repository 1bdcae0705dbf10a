"""Worker processes prepare records exactly as the main process does, in order."""

from engine.data.clean_recipe import CleanRecipe
from engine.data.prepare import PARALLEL_FROM, PreparePool, Preparer


def test_pool_and_in_process_preparation_agree():
    preparer = Preparer(CleanRecipe(tokenizer="words"), "instruction")
    records = [{"prompt": f"Patient John Smith, visit {i}, call 555-201-{1000 + i}", "response": " ok  ",
                "_line": i + 1} for i in range(300)]
    batches = [records[:150], records[150:]]
    with PreparePool(preparer, PARALLEL_FROM, workers=2) as pool:
        assert pool.workers == 2
        parallel = [item for _, prepared in pool.stream(iter(batches)) for item in prepared]
    local = [preparer.prepare(r) for r in records]
    assert [p.record for p in parallel] == [p.record for p in local]
    assert [p.digest for p in parallel] == [p.digest for p in local]
    assert all((a.signature == b.signature).all() for a, b in zip(parallel, local))
    assert parallel[7].record["prompt"] == "Patient [NAME], visit 7, call [PHONE]"
    assert parallel[7].events[0] == ("normalise", "text repaired or normalised")
