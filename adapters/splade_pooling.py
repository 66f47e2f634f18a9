"""SPLADE max pooling computed without the (batch, tokens, vocabulary) logits tensor.

sentence-transformers runs the MLM head over every token (padding included), keeps a
batch x tokens x 30,522 float tensor (1 GB for 32 documents of 256 tokens), masks it, applies
log1p(relu) to all of it and only then takes the max over tokens. On CPU that is memory traffic,
not arithmetic: SPLADE BERT-tiny spent ~85% of its encode time there.

The same values (tests/test_sparse_path.py): relu and log1p are non-decreasing, so max over
tokens of log1p(relu(x)) is log1p(relu(max over tokens of x)); padding rows only add zeros,
which relu makes irrelevant. So the transformer module here returns the MLM head's hidden states
(before the vocabulary projection), and the pooling projects each sequence's real tokens onto
the vocabulary one cache-sized block at a time, keeping only the running max. Equal bit for bit
for most texts; where not, within float rounding (<= 1e-6), less than the library's own output
moves with the batch a text lands in (~3e-6).
"""

from __future__ import annotations

import types
from typing import Any

VOCAB_BLOCK = 1024  # 256 tokens x 1,024 words x 4 bytes = 1 MB: stays in cache (measured best)
# BLAS picks other kernels for a product of very few rows (here: under 12), whose sums round
# differently in the last bit; a short sequence is projected with at least this many rows (its
# padding, or zeros) and the extra rows are dropped before the max.
MIN_ROWS = 32


def install(model: Any) -> str:
    """Switch a SparseEncoder's MLM + SPLADE max pooling to the blocked path where it applies.

    Returns which path the model uses ("blocked", "max-first" or "library"), for the tests."""
    modules = list(model)
    pooling = next((m for m in modules if type(m).__name__ == "SpladePooling"), None)
    if pooling is None or pooling.pooling_strategy != "max" \
            or pooling.activation_function not in ("relu", "log1p_relu"):
        return "library"
    mlm = modules[0]
    head = _bert_head(mlm)
    if type(mlm).__name__ != "MLMTransformer" or head is None or modules.index(pooling) != 1:
        pooling.forward = types.MethodType(_max_first, pooling)
        return "max-first"
    mlm.forward = types.MethodType(_hidden_states, mlm)
    pooling.forward = types.MethodType(_blocked_max, pooling)
    pooling.vocabulary = head.decoder  # the projection the MLM module no longer applies
    return "blocked"


def _bert_head(mlm: Any) -> Any:
    """BERT's MLM prediction head (transform, then decoder with bias), or None for others."""
    auto = getattr(mlm, "auto_model", None)
    head = getattr(getattr(getattr(auto, "cls", None), "predictions", None), "decoder", None)
    if head is None or getattr(auto, "bert", None) is None or head.bias is None:
        return None
    return auto.cls.predictions


def _hidden_states(mlm: Any, features: dict) -> dict:
    """The MLM module's forward without the vocabulary projection (see ``_blocked_max``)."""
    auto = mlm.auto_model
    inputs = {k: v for k, v in features.items()
              if k in ("input_ids", "attention_mask", "token_type_ids", "inputs_embeds")}
    hidden = auto.bert(**inputs)[0]
    features["token_embeddings"] = auto.cls.predictions.transform(hidden)
    return features


def _blocked_max(pooling: Any, features: dict) -> dict:
    import torch
    import torch.nn.functional as F

    hidden = features["token_embeddings"]
    if hidden.shape[1] < MIN_ROWS:
        hidden = F.pad(hidden, (0, 0, 0, MIN_ROWS - hidden.shape[1]))
    lengths = features["attention_mask"].sum(dim=1).tolist()
    weight, bias = pooling.vocabulary.weight, pooling.vocabulary.bias
    pooled = torch.zeros((hidden.shape[0], weight.shape[0]), dtype=hidden.dtype,
                         device=hidden.device)
    for row, length in enumerate(lengths):
        if not length:
            continue  # no token: the library's masked max is 0 too
        tokens = hidden[row, :max(length, MIN_ROWS)]
        for start in range(0, weight.shape[0], VOCAB_BLOCK):
            stop = start + VOCAB_BLOCK
            pooled[row, start:stop] = F.linear(tokens, weight[start:stop],
                                               bias[start:stop])[:length].amax(dim=0)
    return _activate(pooling, features, pooled)


def _max_first(pooling: Any, features: dict) -> dict:
    """Any MLM module: the max over (masked) tokens first, then the activation."""
    logits = features["token_embeddings"]
    mask = features["attention_mask"].unsqueeze(-1).to(logits.dtype)
    return _activate(pooling, features, (logits * mask).amax(dim=1))


def _activate(pooling: Any, features: dict, pooled: Any) -> dict:
    pooled = pooled.relu_().log1p_()
    if pooling.activation_function == "log1p_relu":
        pooled = pooled.log1p_()
    features["sentence_embedding"] = pooled
    return features
