"""MTEB tasks beyond retrieval: STS, classification, clustering, pair classification, reranking,
summarization and multi-label classification.

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
    # class attributes set on the local task: only the code-path check tasks use this, to run a
    # real mteb protocol on a few hundred texts (e.g. embed all texts instead of 4% of them)
    overrides: tuple[tuple[str, object], ...] = ()


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


_MT = "mteb.tasks"
# The MTEB(eng, v2) tasks of the other five types: local files under mteb/<folder>/ in the
# layout documented in README ("Task types"); mteb's own class runs each.
_MORE: dict[str, tuple[str, str, str]] = {  # name -> (kind, main score, "module:Class")
    **{n: ("clustering", "v_measure", f"{_MT}.clustering.eng.{m}") for n, m in [
        ("ArXivHierarchicalClusteringP2P",
         "arxiv_hierarchical_clustering:ArXivHierarchicalClusteringP2P"),
        ("ArXivHierarchicalClusteringS2S",
         "arxiv_hierarchical_clustering:ArXivHierarchicalClusteringS2S"),
        ("BiorxivClusteringP2P.v2", "biorxiv_clustering_p2p:BiorxivClusteringP2PFast"),
        ("MedrxivClusteringP2P.v2", "medrxiv_clustering_p2p:MedrxivClusteringP2PFast"),
        ("MedrxivClusteringS2S.v2", "medrxiv_clustering_s2s:MedrxivClusteringS2SFast"),
        ("StackExchangeClustering.v2", "stack_exchange_clustering:StackExchangeClusteringFast"),
        ("StackExchangeClusteringP2P.v2",
         "stack_exchange_clustering_p2p:StackExchangeClusteringP2PFast"),
        ("TwentyNewsgroupsClustering.v2",
         "twenty_newsgroups_clustering:TwentyNewsgroupsClusteringFast")]},
    **{n: ("pair_classification", "max_ap", f"{_MT}.pair_classification.eng.{m}") for n, m in [
        ("SprintDuplicateQuestions", "sprint_duplicate_questions_pc:SprintDuplicateQuestionsPC"),
        ("TwitterSemEval2015", "twitter_sem_eval2015_pc:TwitterSemEval2015PC"),
        ("TwitterURLCorpus", "twitter_url_corpus_pc:TwitterURLCorpus")]},
    "AskUbuntuDupQuestions": ("reranking", "map_at_1000", f"{_MT}.reranking.eng."
                              "ask_ubuntu_dup_questions:AskUbuntuDupQuestions"),
    "MindSmallReranking": ("reranking", "max_over_subqueries_map_at_1000",
                           f"{_MT}.reranking.eng.mind_small_reranking:MindSmallReranking"),
    "SummEvalSummarization.v2": ("summarization", "cosine_spearman", f"{_MT}.summarization.eng."
                                 "summ_eval_summarization:SummEvalSummarizationv2"),
}
_FILES = {"clustering": "test.jsonl", "pair_classification": "test.jsonl",
          "reranking": "", "summarization": "test.jsonl",
          "multilabel_classification": "{split}.jsonl"}

for _name, (_kind, _score, _cls) in _MORE.items():
    SOURCES[_name] = MtebSource(_cls, _FILES[_kind])
    register(TaskMeta(name=_name, type=_kind, folder=f"mteb/{_name.lower()}", main_score=_score,
                      split="test", description=f"MTEB(eng, v2) {_kind.replace('_', ' ')}",
                      license="see the data folder"))

_CHECK_NOTE = "code-path check on real texts, not a reproduction of any published number"
# Small tasks the tests build from staged texts (folder checks/<name>); each runs a real mteb
# protocol class so the harness can be compared with mteb.evaluate on identical local data.
CHECK_TASKS: dict[str, tuple[str, str, MtebSource, str]] = {
    "Banking77IntentClustering": ("clustering", "v_measure", MtebSource(
        f"{_MT}.clustering.eng.twenty_newsgroups_clustering:TwentyNewsgroupsClusteringFast",
        "test.jsonl", overrides=(("max_fraction_of_documents_to_embed", None),
                                 ("max_documents_per_cluster", 400))),
        "Banking77 test texts clustered by intent"),
    "STSBParaphrasePairs": ("pair_classification", "max_ap", MtebSource(
        f"{_MT}.pair_classification.eng.twitter_sem_eval2015_pc:TwitterSemEval2015PC",
        "test.jsonl"), "STSBenchmark/SICK-R pairs thresholded into paraphrase / not"),
    "SciFactBM25Reranking": ("reranking", "map_at_1000", MtebSource(
        f"{_MT}.reranking.eng.ask_ubuntu_dup_questions:AskUbuntuDupQuestions", ""),
        "SciFact queries reranked over their BM25 top-20 candidates"),
    "STSBSummarization": ("summarization", "cosine_spearman", MtebSource(
        f"{_MT}.summarization.eng.summ_eval_summarization:SummEvalSummarizationv2",
        "test.jsonl"), "groups of STS pairs as human / machine summaries with gold relevance"),
    "Banking77MultiIntent": ("multilabel_classification", "accuracy", MtebSource(
        f"{_MT}.multilabel_classification.eng.scirepeval_fos_classification:"
        "SciRepEvalFoSClassification", "{split}.jsonl"),
        "two Banking77 requests joined into one message, labelled with both intents"),
}


def register_check_tasks() -> list[str]:
    """Register the code-path check tasks (the tests do; they are not part of any suite)."""
    for name, (kind, score, src, description) in CHECK_TASKS.items():
        SOURCES[name] = src
        register(TaskMeta(name=name, type=kind, folder=f"checks/{name.lower()}",
                          main_score=score, split="test",
                          description=f"{description} ({_CHECK_NOTE})", license="as its source"))
    return list(CHECK_TASKS)


def source(task_name: str) -> MtebSource:
    return SOURCES[task_name]
