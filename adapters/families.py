"""Build an adapter for a model folder, detecting its family from the files, never the name.

Families: sentence-transformers dense (``modules.json`` with Pooling, or a plain transformers
checkpoint that sentence-transformers mean-pools), sentence-transformers ``SparseEncoder`` (SPLADE
pooling / an MLM head), ColBERT/PyLate checkpoints, model2vec static models, and ONNX exports
(``model.onnx`` + ``tokenizer.json``). Encoders are the existing ones in adapters/dense.py,
sparse.py and multivector.py; only model2vec's small adapter lives here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from adapters.base import Encoder, ModelMeta, Side, hash_files
from adapters.model_info import ModelFiles, read_model_info
from adapters.resolve import ModelSource
from harness.embeddings import DenseEmbeddings
from harness.errors import HarnessError

ALL_TYPES = ("retrieval", "sts", "classification")


def detect_family(files: ModelFiles) -> str:
    """One of: sentence-transformers, sparse, multivector, static, onnx."""
    types = files.module_types
    config = files.config
    if any("sparse_encoder" in t or "SpladePooling" in t or "MLMTransformer" in t for t in types):
        return "sparse"
    if any(t.startswith("pylate") for t in types) or (files.folder / "artifact.metadata").is_file():
        return "multivector"
    if config.get("model_type") == "model2vec":
        return "static"
    if types:
        return "sentence-transformers"
    if files.onnx is not None and files.tokenizer is not None:
        return "onnx"
    if any(str(a).endswith("ForMaskedLM") for a in config.get("architectures") or []):
        return "sparse"  # a bare MLM checkpoint is the SPLADE recipe (MLM head + max pooling)
    if config and files.weights:
        return "sentence-transformers"  # a plain transformers encoder: mean pooling is added
    raise HarnessError(
        f"{files.folder}: no model files found (expected modules.json, config.json with "
        "weights, model.onnx with tokenizer.json, or a model2vec folder)")


def build_adapter(source: ModelSource, *, query_prompt: str | None = None,
                  document_prompt: str | None = None, trust_remote_code: bool = False,
                  precision: str = "fp32") -> Encoder:
    """The adapter for a located model folder, with its full metadata attached."""
    files = ModelFiles.scan(source.folder)
    family = detect_family(files)
    if not files.weights:
        raise HarnessError(f"{source.folder}: no weight files (*.safetensors, *.bin, *.onnx)")
    if files.needs_remote_code and not trust_remote_code:
        raise HarnessError(
            f"model '{source.text}' needs its own Python code (auto_map in config.json); "
            "pass --trust-remote-code to allow running it")
    info = read_model_info(source, files, family)
    prompts = {"query": info["prompts"].get("query", ""),
               "document": info["prompts"].get("document", "")}
    if query_prompt is not None:
        prompts["query"] = query_prompt
    if document_prompt is not None:
        prompts["document"] = document_prompt
    info["prompts"] = prompts
    adapter = _BUILDERS[family](source, files, info, prompts, trust_remote_code)
    if precision != "fp32":
        raise HarnessError(f"model '{source.text}' ({family}): precision {precision} is only "
                           "available for registry models in this version")
    extra = [("hub_commit", source.commit)] if source.commit else []
    adapter.meta = replace(adapter.meta, source=str(source.hub_id or source.folder),
                           license=info.get("license") or adapter.meta.license,
                           options=tuple(adapter.meta.options) + tuple(extra),
                           info=info)
    return adapter


def _dense(source: ModelSource, files: ModelFiles, info: dict[str, Any],
           prompts: dict[str, str], trust_remote_code: bool) -> Encoder:
    from adapters.dense import SentenceTransformerAdapter

    cls = RemoteCodeSentenceTransformer if trust_remote_code else SentenceTransformerAdapter
    return cls(source.display_name, source.folder, revision=hash_files(files.weights),
               dim=info.get("dim") or 0, max_length=info.get("max_tokens") or 512,
               license=info.get("license") or "unknown", task_types=ALL_TYPES,
               query_prompt=prompts["query"], document_prompt=prompts["document"])


def _no_prompts(source: ModelSource, prompts: dict[str, str], family: str) -> None:
    if prompts["query"] or prompts["document"]:
        raise HarnessError(f"model '{source.text}' ({family}) does not take prompts; drop "
                           "--query-prompt/--doc-prompt")


def _sparse(source: ModelSource, files: ModelFiles, info: dict[str, Any],
            prompts: dict[str, str], trust_remote_code: bool) -> Encoder:
    from adapters.sparse import SparseEncoderAdapter

    _no_prompts(source, prompts, "sparse")
    adapter = SparseEncoderAdapter(source.display_name, source.folder, ("retrieval",),
                                   max_length=info.get("max_tokens") or 256,
                                   license=info.get("license") or "unknown")
    adapter.meta = replace(adapter.meta, revision=hash_files(files.weights))
    return adapter


def _multivector(source: ModelSource, files: ModelFiles, info: dict[str, Any],
                 prompts: dict[str, str], trust_remote_code: bool) -> Encoder:
    from adapters.multivector import TokenEmbeddingAdapter

    _no_prompts(source, prompts, "multivector")  # PyLate prefixes come from its own config
    return TokenEmbeddingAdapter(source.display_name, source.folder, ("retrieval",),
                                 max_length=info.get("max_tokens") or 300,
                                 license=info.get("license") or "unknown",
                                 dim=info.get("dim") or 128)


def _onnx(source: ModelSource, files: ModelFiles, info: dict[str, Any],
          prompts: dict[str, str], trust_remote_code: bool) -> Encoder:
    from adapters.dense import OnnxMeanPoolAdapter

    _no_prompts(source, prompts, "onnx")
    assert files.onnx is not None and files.tokenizer is not None
    adapter = OnnxMeanPoolAdapter(source.display_name, files.onnx, files.tokenizer,
                                  max_length=info.get("max_tokens") or 512, normalize=True,
                                  license=info.get("license") or "unknown", task_types=ALL_TYPES)
    adapter.meta = replace(adapter.meta, dim=info.get("dim"))
    return adapter


def _static(source: ModelSource, files: ModelFiles, info: dict[str, Any],
            prompts: dict[str, str], trust_remote_code: bool) -> Encoder:
    return Model2VecAdapter(source.display_name, source.folder, hash_files(files.weights),
                            info, prompts)


def RemoteCodeSentenceTransformer(*args: Any, **kwargs: Any) -> Encoder:  # noqa: N802
    """SentenceTransformerAdapter that may run the model's own code (``--trust-remote-code``)."""
    from adapters.dense import SentenceTransformerAdapter

    class Trusted(SentenceTransformerAdapter):
        def _load(self):  # noqa: ANN202 - a SentenceTransformer
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(self.path, device="cpu", trust_remote_code=True)
            return self._model

    adapter = Trusted(*args, **kwargs)
    adapter.meta = replace(adapter.meta, options=tuple(adapter.meta.options)
                           + (("trust_remote_code", "true"),))
    return adapter


class Model2VecAdapter:
    """A model2vec static model folder: token-embedding lookup and mean pooling."""

    def __init__(self, name: str, folder: Path, revision: str, info: dict[str, Any],
                 prompts: dict[str, str]) -> None:
        self.folder = folder
        self.prompts = prompts
        self.meta = ModelMeta(
            name=name, family="dense", revision=revision, dim=info.get("dim"),
            max_length=info.get("max_tokens"), license=info.get("license") or "unknown",
            source=str(folder), similarity="cosine", task_types=frozenset(ALL_TYPES),
            options=(("query_prompt", prompts["query"]),
                     ("document_prompt", prompts["document"])))
        self._model = None

    def encode(self, texts: Sequence[str], side: Side, *, batch_size: int = 32) -> DenseEmbeddings:
        if self._model is None:
            from model2vec import StaticModel

            self._model = StaticModel.from_pretrained(str(self.folder))
        prefix = self.prompts["query" if side == "query" else "document"]
        vectors = self._model.encode([prefix + t for t in texts], batch_size=max(batch_size, 256))
        return DenseEmbeddings(np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1))


_BUILDERS = {"sentence-transformers": _dense, "sparse": _sparse, "multivector": _multivector,
             "onnx": _onnx, "static": _static}


def family_of(folder: Path) -> str:
    """The detected family of a model folder (for `harness ls models` and errors)."""
    return detect_family(ModelFiles.scan(folder))

