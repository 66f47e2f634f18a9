"""What a model folder says about itself: files, prompts, size, dimension, max tokens, license.

Read from the files without loading weights (safetensors headers give the parameter count), then
completed from mteb's model metadata when mteb knows the hub id. The result is recorded with every
run (``runs.extra["model_meta"]``) so the board can show it.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adapters.resolve import ModelSource

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".onnx")  # never *.pt/*.pkl: those are pickles
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}


@dataclass(frozen=True)
class ModelFiles:
    folder: Path
    config: dict[str, Any]  # config.json
    module_types: tuple[str, ...]  # modules.json "type" entries, in order
    modules: tuple[dict[str, Any], ...]
    weights: tuple[Path, ...]
    onnx: Path | None
    tokenizer: Path | None

    @classmethod
    def scan(cls, folder: Path) -> ModelFiles:
        modules = _json(folder / "modules.json")
        modules = tuple(m for m in modules if isinstance(m, dict)) if isinstance(modules, list) \
            else ()
        weights = tuple(sorted(p for p in folder.rglob("*") if p.is_file()
                               and p.suffix in WEIGHT_SUFFIXES and ".cache" not in p.parts))
        onnx = next((p for p in (folder / "model.onnx", folder / "onnx" / "model.onnx")
                     if p.is_file()), None)
        tokenizer = folder / "tokenizer.json"
        config = _json(folder / "config.json")
        return cls(folder, config if isinstance(config, dict) else {},
                   tuple(str(m.get("type", "")) for m in modules), modules, weights,
                   onnx, tokenizer if tokenizer.is_file() else None)

    @property
    def needs_remote_code(self) -> bool:
        custom_modules = any(t and not t.startswith(("sentence_transformers", "pylate"))
                             for t in self.module_types)
        return bool(self.config.get("auto_map")) or custom_modules

    def module_config(self, suffix: str) -> dict[str, Any]:
        """config.json of the first module whose type ends with ``suffix`` (e.g. '.Pooling')."""
        for module in self.modules:
            if str(module.get("type", "")).endswith(suffix):
                found = _json(self.folder / str(module.get("path", "")) / "config.json")
                return found if isinstance(found, dict) else {}
        return {}


def _tensor_shapes(paths: tuple[Path, ...]) -> list[list[int]]:
    """Tensor shapes from safetensors headers (8-byte length + JSON), without loading tensors."""
    shapes = []
    for path in paths:
        if path.suffix != ".safetensors":
            continue
        with path.open("rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(length))
        shapes += [[int(s) for s in t.get("shape", [])] for name, t in header.items()
                   if name != "__metadata__"]
    return shapes


def safetensors_parameters(paths: tuple[Path, ...]) -> int | None:
    shapes = _tensor_shapes(paths)
    return sum(int(np.prod(s)) if s else 1 for s in shapes) if shapes else None


def _readme_license(folder: Path) -> str | None:
    readme = folder / "README.md"
    if not readme.is_file():
        return None
    head = readme.read_text(encoding="utf-8", errors="replace")[:4000]
    match = re.search(r"^---\s*$(.*?)^---\s*$", head, re.M | re.S)
    if not match:
        return None
    lic = re.search(r"^license:\s*(\S+)\s*$", match.group(1), re.M)
    return lic.group(1).strip("'\"") if lic else None


def own_prompts(folder: Path) -> dict[str, str]:
    """query/document prompts from config_sentence_transformers.json ("passage" = document)."""
    config = _json(folder / "config_sentence_transformers.json")
    prompts = config.get("prompts") if isinstance(config, dict) else None
    if not isinstance(prompts, dict):
        return {}
    found = {}
    for side, names in (("query", ("query",)), ("document", ("document", "passage", "corpus"))):
        value = next((prompts[n] for n in names if isinstance(prompts.get(n), str)), "")
        if value:
            found[side] = value
    return found


def mteb_model_meta(hub_id: str | None) -> dict[str, Any] | None:
    """mteb's metadata for a hub id it knows (prompts, parameters, dim, license…), else None."""
    if not hub_id:
        return None
    try:
        import mteb

        meta = mteb.get_model_meta(hub_id)
    except Exception:  # noqa: BLE001 - unknown to mteb (KeyError) or mteb unusable: no metadata
        return None
    prompts = (meta.loader_kwargs or {}).get("model_prompts") or {}
    document = prompts.get("document") or prompts.get("passage") or ""
    similarity = getattr(meta.similarity_fn_name, "value", meta.similarity_fn_name)
    return {
        "name": meta.name, "revision": meta.revision, "n_parameters": meta.n_parameters,
        "memory_usage_mb": meta.memory_usage_mb, "max_tokens": meta.max_tokens,
        "embed_dim": meta.embed_dim, "license": meta.license, "open_weights": meta.open_weights,
        "similarity": similarity, "release_date": meta.release_date,
        "prompts": {k: v for k, v in (("query", prompts.get("query", "")),
                                      ("document", document)) if v},
    }


def _dimension(files: ModelFiles) -> int | None:
    dense = files.module_config(".Dense")
    if dense.get("out_features"):
        return int(dense["out_features"])
    pooling = files.module_config(".Pooling")
    if pooling.get("word_embedding_dimension"):
        return int(pooling["word_embedding_dimension"])
    for key in ("hidden_size", "hidden_dim", "d_model", "dim"):
        if isinstance(files.config.get(key), int):
            return int(files.config[key])
    if files.config.get("model_type") == "model2vec":  # one [vocabulary, dim] table
        matrices = [s for s in _tensor_shapes(files.weights) if len(s) == 2]
        return matrices[0][1] if matrices else None
    return None


def _max_tokens(files: ModelFiles) -> int | None:
    st = _json(files.folder / "sentence_bert_config.json")
    if isinstance(st, dict) and st.get("max_seq_length"):
        return int(st["max_seq_length"])
    for key in ("max_position_embeddings", "max_length"):
        if isinstance(files.config.get(key), int):
            return int(files.config[key])
    return None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def read_model_info(source: ModelSource, files: ModelFiles, family: str) -> dict[str, Any]:
    """Everything known about a model, for the run record; prompts: own config, then mteb."""
    weight_bytes = sum(p.stat().st_size for p in files.weights)
    from_mteb = mteb_model_meta(source.hub_id)
    prompts = own_prompts(files.folder)
    prompt_source = "config_sentence_transformers.json" if prompts else None
    if not prompts and from_mteb and from_mteb["prompts"]:
        prompts, prompt_source = dict(from_mteb["prompts"]), "mteb"
    params = safetensors_parameters(files.weights)
    license = _readme_license(files.folder) or (from_mteb or {}).get("license")
    return {
        "format": family, "source": source.text, "folder": str(files.folder),
        "hub_id": source.hub_id, "hub_commit": source.commit,
        "parameters": params if params is not None else (from_mteb or {}).get("n_parameters"),
        "dim": _dimension(files) or (from_mteb or {}).get("embed_dim"),
        "max_tokens": _max_tokens(files) or _int((from_mteb or {}).get("max_tokens")),
        "memory_mb": round(weight_bytes / 2**20, 1), "license": license,
        "open_weights": True, "prompts": prompts, "prompt_source": prompt_source,
        "mteb": from_mteb,
    }
