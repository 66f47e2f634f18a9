"""Multi-vector family: per-token embeddings scored by late interaction (MaxSim).

``TokenEmbeddingAdapter`` runs a sentence-transformers Transformer and keeps every token's vector
(no pooling), L2-normalised as ColBERT does, optionally through the Dense projection(s) a
ColBERT/PyLate checkpoint folder holds. PyLate is never imported: its checkpoints are ST folders
(``modules.json``: Transformer, then ``pylate.models.Dense``) whose projection weights are read
with safetensors, so loading works whether or not pylate is installed. Query prefixes/lengths of
PyLate (``[Q] ``/``[D] ``) come from ``config_sentence_transformers.json`` when present.

Offline, no trained ColBERT weights exist; all-MiniLM-L6-v2's token states give an untrained
late-interaction baseline ("minilm-maxsim").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from adapters import precision as prec
from adapters.base import ModelMeta, Side, hash_files
from adapters.dense import minilm_dir
from adapters.registry import _e, register
from harness.embeddings import MultiVectorEmbeddings
from harness.errors import HarnessError


def _projection_layers(folder: Path) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """(weight, bias) of each Dense module after the Transformer in an ST/PyLate folder."""
    modules_file = folder / "modules.json"
    if not modules_file.is_file():
        return []
    layers = []
    for module in json.loads(modules_file.read_text()):
        if not module.get("type", "").endswith(".Dense"):
            continue
        sub = folder / module["path"]
        config = json.loads((sub / "config.json").read_text())
        activation = config.get("activation_function", "torch.nn.modules.linear.Identity")
        if not activation.endswith("Identity"):
            raise HarnessError(f"{sub}: unsupported projection activation {activation}")
        from safetensors.numpy import load_file

        tensors = load_file(str(sub / "model.safetensors"))
        layers.append((tensors["linear.weight"].astype(np.float32),
                       tensors.get("linear.bias")))
    return layers


class TokenEmbeddingAdapter:
    """Per-token vectors of a Transformer (+ optional ColBERT projection), L2-normalised."""

    def __init__(self, name: str, path: str | Path, task_types: Sequence[str], *,
                 max_length: int = 256, storage: str = "float16", license: str = "unknown",
                 dim: int = 384, precision: str = "fp32", device: str = "auto") -> None:
        self.folder = Path(path)
        self.device = prec.resolve_device(device)
        prec.check_precision(precision, self.device, name)
        self.precision = precision
        weights = sorted(self.folder.rglob("*.safetensors"))
        if not weights:
            raise HarnessError(f"{self.folder}: no .safetensors weights for '{name}'")
        self.storage = np.dtype(storage)
        self.projections = _projection_layers(self.folder)
        if self.projections:
            dim = int(self.projections[-1][0].shape[0])
        config = self.folder / "config_sentence_transformers.json"
        prompts = json.loads(config.read_text()) if config.is_file() else {}
        self.query_prefix = str(prompts.get("query_prefix") or "")
        self.document_prefix = str(prompts.get("document_prefix") or "")
        self.max_length = max_length
        self.meta = ModelMeta(
            name=name, family="multivector", revision=hash_files(weights), dim=dim,
            max_length=max_length, license=license, source=str(self.folder),
            similarity="maxsim", task_types=frozenset(task_types),
            options=(("tokens", "all"), ("normalize", "l2"), ("storage", storage),
                     ("max_length", str(max_length)), ("query_prefix", self.query_prefix),
                     ("document_prefix", self.document_prefix),
                     *prec.precision_options(precision)),
        )
        self._model = None

    def _load(self):  # noqa: ANN202 - a SentenceTransformer holding only the Transformer
        if self._model is None:
            from sentence_transformers import SentenceTransformer
            from sentence_transformers.models import Transformer

            # Only the Transformer module: Pooling/Normalize/Dense would act on sentence vectors.
            prec.set_encode_threads()
            with prec.quiet_loading():
                transformer = Transformer(str(self.folder), max_seq_length=self.max_length)
                self._model = SentenceTransformer(modules=[transformer], device=self.device)
        return self._model

    def encode(self, texts: Sequence[str], side: Side, *,
               batch_size: int = 32) -> MultiVectorEmbeddings:
        prefix = self.query_prefix if side == "query" else self.document_prefix
        if not texts:
            return MultiVectorEmbeddings(np.zeros((0, self.meta.dim or 0), self.storage),
                                         np.zeros(1, dtype=np.int64))
        model = self._load()
        with prec.autocast(self.precision, self.device):
            per_item = model.encode([prefix + t for t in texts], batch_size=batch_size,
                                    output_value="token_embeddings", convert_to_numpy=False,
                                    show_progress_bar=False)
        tokens = np.concatenate([t.float().cpu().numpy() for t in per_item])
        for weight, bias in self.projections:
            tokens = tokens @ weight.T + (bias if bias is not None else 0.0)
        tokens /= np.clip(np.linalg.norm(tokens, axis=1, keepdims=True), 1e-12, None)
        offsets = np.zeros(len(per_item) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([t.shape[0] for t in per_item])
        return MultiVectorEmbeddings(tokens.astype(self.storage), offsets)


def minilm_maxsim(name: str, task_types: Sequence[str],
                  precision: str = "fp32") -> TokenEmbeddingAdapter:
    return TokenEmbeddingAdapter(name, minilm_dir(), task_types, max_length=256,
                                 license="apache-2.0", dim=384, precision=precision)


def colbert_folder(name: str, task_types: Sequence[str], path: str,
                   max_length: int = 300, precision: str = "fp32") -> TokenEmbeddingAdapter:
    """A ColBERT/PyLate checkpoint folder given by path (none ships offline)."""
    return TokenEmbeddingAdapter(name, path, task_types, max_length=max_length,
                                 precision=precision)


register(_e("minilm-maxsim", "adapters.multivector:minilm_maxsim", "multivector",
            "all-MiniLM-L6-v2 token embeddings (L2-normalised, fp16 storage), exact MaxSim: "
            "untrained late interaction", ("retrieval",)))
