import pytest

from tryon.errors import PairError, RunStoppingError
from tryon.stages import run_isolated


class _Doubler:
    name = "doubler"

    def __init__(self):
        self.calls = 0

    def __call__(self, batch):
        self.calls += 1
        if "poison" in batch:
            raise RuntimeError("kernel crashed")
        return [item * 2 for item in batch]


def test_a_batch_exception_lands_only_on_the_item_that_causes_it():
    stage = _Doubler()
    results = run_isolated(stage, ["a", "poison", "b"], label_of=lambda item: f"pair {item}")
    assert results[0] == "aa" and results[2] == "bb"
    assert isinstance(results[1], PairError) and results[1].error_type == "stage_error"
    assert "pair poison" in results[1].message and "kernel crashed" in results[1].message
    assert stage.calls == 4  # the batch once, then each item alone


def test_a_clean_batch_runs_once():
    stage = _Doubler()
    assert run_isolated(stage, ["a", "b"], label_of=str) == ["aa", "bb"] and stage.calls == 1


def test_a_lone_item_that_raises_becomes_its_error_row():
    def stage(batch):
        raise PairError("out_of_memory", "pair x: does not fit")

    assert run_isolated(stage, ["x"], label_of=str)[0].error_type == "out_of_memory"
    assert run_isolated(_Doubler(), ["poison"], label_of=str)[0].error_type == "stage_error"


def test_a_run_stopping_error_escapes_isolation():
    def stage(batch):
        raise RunStoppingError("host memory ran out; lower batch_size")

    with pytest.raises(RunStoppingError, match="lower batch_size"):
        run_isolated(stage, ["a", "b"], label_of=str)
