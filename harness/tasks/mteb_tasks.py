"""MTEB tasks beyond retrieval: seven STS tasks and Banking77Classification.

Each task is registered under MTEB's own name, split and main score, and tied to the mteb task
class whose protocol evaluates it (``mteb_class``): the harness only swaps that class's data
loading for the local files, so scores are comparable with the MTEB leaderboard by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.tasks.base import TaskMeta
from harness.tasks.registry import register


@dataclass(frozen=True)
class MtebSource:
    """Where a task's local file is and how to read it."""

    mteb_class: str  # "module:Class" of the installed mteb task whose protocol we run
    filename: str  # relative to the task folder
    id_fields: tuple[str, ...] = ()  # fields joined with ':' into the item id (STS pair id)
    min_score: float = 0.0  # gold similarity range as published for the data set
    max_score: float = 5.0


_STS = "mteb.tasks.sts.eng"

SOURCES: dict[str, MtebSource] = {
    "STSBenchmark": MtebSource(f"{_STS}.sts_benchmark_sts:STSBenchmarkSTS", "test.jsonl",
                               ("genre", "filename", "year", "sid")),
    # SICK relatedness is graded 1-5 (MTEB still normalises with 0-5; Spearman is unaffected).
    "SICK-R": MtebSource(f"{_STS}.sickr_sts:SickrSTS", "test.jsonl", ("pair_id",),
                         min_score=1.0),
    **{f"STS{y}": MtebSource(f"{_STS}.sts{y}_sts:STS{y}STS", "test.jsonl", ("subset", "line"))
       for y in (12, 13, 14, 15, 16)},
    "Banking77Classification": MtebSource(
        "mteb.tasks.classification.eng.banking77_classification:Banking77Classification",
        "{split}.csv"),
}

_LICENSES = {"STSBenchmark": "cc-by-sa-4.0 (scores)", "SICK-R": "cc-by-nc-sa-3.0",
             "STS16": "cc-by-sa-3.0 / cc-by-4.0 / cc-by-nc-sa-2.0-uk",
             "Banking77Classification": "cc-by-4.0"}
_FOLDERS = {"STSBenchmark": "stsbenchmark", "SICK-R": "sickr",
            **{f"STS{y}": f"sts{y}" for y in (12, 13, 14, 15, 16)},
            "Banking77Classification": "banking77"}
_DESCRIPTIONS = {"STSBenchmark": "STS Benchmark (SemEval 2012-2017 English pairs)",
                 "SICK-R": "SICK relatedness, all 9,927 SemEval-2014 pairs",
                 "STS12": "SemEval-2012 task 6", "STS13": "SemEval-2013 STS (no SMT subset)",
                 "STS14": "SemEval-2014 task 10 English", "STS15": "SemEval-2015 task 2 English",
                 "STS16": "SemEval-2016 task 1 English",
                 "Banking77Classification": "Online-banking intents, 77 classes"}

for _name, _folder in _FOLDERS.items():
    _clf = _name == "Banking77Classification"
    register(TaskMeta(
        name=_name, type="classification" if _clf else "sts", folder=f"mteb/{_folder}",
        main_score="accuracy" if _clf else "cosine_spearman", split="test",
        description=_DESCRIPTIONS[_name], license=_LICENSES.get(_name, "see the data folder")))


def source(task_name: str) -> MtebSource:
    return SOURCES[task_name]
