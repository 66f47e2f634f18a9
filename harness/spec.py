"""A unit of work, its spec values, and its deterministic key.

Spec values are small immutable objects parsed once (the ir_measures way): ``Compression``,
``Backend``, a precision and ``k``. Compression and backend share ONE syntax::

    name[:value]...[:key=value]...     e.g.  hnsw:efs=64   mrl:256   ivfpq:24x8:nlist=64

Bare values fill the scheme's parameters in their declared order; ``key=value`` names one. Every
parameter is filled with its default, so ``hnsw`` and ``hnsw:m=32:efc=200:efs=128`` are the same
object, and ``str()`` is the canonical form: required parameters bare, then the parameters that
differ from their default as ``key=value``, in declared order (``fp32`` prints as ``none``).
Each parameter is a *build* parameter (changes what is fitted or indexed) or a *query* parameter
(changes only how it is searched), so a sweep over query parameters reuses one built index.

A ``RunSpec`` resolved against the model's metadata, the task's data hash and the scoring
fingerprint (see ``harness.fingerprint``) becomes canonical JSON whose sha256 is the run key.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from itertools import product
from typing import Any, ClassVar, Literal

from harness.errors import HarnessError

Value = int | str
Stage = Literal["build", "query"]
PRECISIONS = ("fp32", "bf16", "fp16")
DEFAULT_K = 1000
AXES = ("compression", "backend", "k", "precision")  # what a task kind may declare it uses


class SpecError(HarnessError):
    """An invalid compression or backend spec (one line: what is allowed)."""


@dataclass(frozen=True)
class Param:
    name: str
    default: Value | None = None  # None: required
    stage: Stage = "build"
    minimum: int = 1
    maximum: int | None = None
    pattern: str = r"\d+"  # the text form; r"\d+" converts to int
    hint: str = "<positive int>"

    def convert(self, text: str) -> Value:
        if not re.fullmatch(self.pattern, text):
            raise ValueError(text)
        if self.pattern != r"\d+":
            return text
        value = int(text)
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            raise ValueError(text)
        return value


@dataclass(frozen=True)
class Scheme:
    name: str
    params: tuple[Param, ...] = ()

    def usage(self) -> str:
        return self.name + "".join(f"[:{p.name}={p.hint}]" if p.default is not None
                                   else f":{p.name.upper()}" for p in self.params)


@dataclass(frozen=True, order=True)
class Choice:
    """A parsed scheme with every parameter filled, in declared order."""

    name: str
    params: tuple[tuple[str, Value], ...] = ()

    KIND: ClassVar[str] = ""
    SCHEMES: ClassVar[dict[str, Scheme]] = {}
    ALIASES: ClassVar[dict[str, str]] = {}

    @classmethod
    def parse(cls, text: str | Choice | dict) -> Choice:
        """From its text, itself, or ``dataclasses.asdict`` output (``{"name", "params"}``)."""
        if isinstance(text, cls):
            return text
        if isinstance(text, dict):  # e.g. a RunSpec sent through asdict to another process
            text = str(cls(text["name"], tuple(tuple(p) for p in text["params"])))
        text = str(text).strip()
        head, *parts = [p for p in text.replace(",", ":").split(":")]
        head = cls.ALIASES.get(head, head)
        scheme = cls.SCHEMES.get(head)
        if scheme is None:
            raise SpecError(f"unknown {cls.KIND} '{text}' (Known: "
                            f"{', '.join(sorted({*cls.SCHEMES, *cls.ALIASES}))})")
        return cls(head, _fill(cls.KIND, text, scheme, parts))

    def __str__(self) -> str:
        scheme = self.SCHEMES[self.name]
        out = [self.name]
        for p, (_, value) in zip(scheme.params, self.params, strict=True):
            if p.default is None:
                out.append(str(value))
            elif value != p.default:
                out.append(f"{p.name}={value}")
        return ":".join(out)

    def __getitem__(self, key: str) -> Value:
        return dict(self.params)[key]

    def _stage(self, stage: Stage) -> dict[str, Value]:
        scheme = self.SCHEMES[self.name]
        return {p.name: v for p, (_, v) in zip(scheme.params, self.params, strict=True)
                if p.stage == stage}

    @property
    def build_params(self) -> dict[str, Value]:
        return self._stage("build")

    @property
    def query_params(self) -> dict[str, Value]:
        return self._stage("query")

    @property
    def build_key(self) -> str:
        """What identifies a built index/fit: the name and the build parameters only."""
        return self.name + "".join(f":{k}={v}" for k, v in self.build_params.items())


def _fill(kind: str, text: str, scheme: Scheme, parts: list[str]) -> tuple[tuple[str, Value], ...]:
    by_name = {p.name: p for p in scheme.params}

    def fail(why: str) -> SpecError:
        allowed = ", ".join(f"{p.name}={p.hint}" for p in scheme.params) or "no parameters"
        return SpecError(f"invalid {kind} '{text}': {why} (allowed for {scheme.name}: {allowed})")

    values: dict[str, Value] = {}
    position = 0
    for part in parts:
        key, eq, raw = part.partition("=")
        if not eq:
            if position >= len(scheme.params):
                raise fail(f"unexpected '{part}'")
            key, raw = scheme.params[position].name, part
            position += 1
        if key not in by_name:
            raise fail(f"unknown parameter '{key}'")
        if key in values:
            raise fail(f"'{key}' given twice")
        try:
            values[key] = by_name[key].convert(raw)
        except ValueError:
            raise fail(f"'{part}'") from None
    missing = [p.name for p in scheme.params if p.default is None and p.name not in values]
    if missing:
        raise fail(f"missing {', '.join(missing)}")
    return tuple((p.name, values.get(p.name, p.default)) for p in scheme.params)  # type: ignore[misc]


_INT0 = {"minimum": 0, "hint": "<int >= 0>"}
_CODES = Param("codes", pattern=r"\d+x\d+", hint="MxBITS")


class Compression(Choice):
    """Vector compression applied between encoding and search (see ``harness.compression``)."""

    KIND = "compression"
    ALIASES = {"fp32": "none"}
    SCHEMES = {s.name: s for s in (
        Scheme("none"), Scheme("fp16"), Scheme("fp8"), Scheme("int8"), Scheme("int4"),
        Scheme("binary"),
        # depth 0: 4 x k, as sentence-transformers' rescore_multiplier
        Scheme("binary+rescore", (Param("depth", 0, "query", **_INT0),)),
        Scheme("mrl", (Param("dim"),)), Scheme("pca", (Param("dim"),)),
        Scheme("pq", (_CODES,)),
        # nlist 0: sqrt(corpus size)
        Scheme("ivfpq", (_CODES, Param("nlist", 0, **_INT0), Param("nprobe", 8, "query"))),
    )}


class Backend(Choice):
    """A search backend with its build parameters kept apart from its query parameters."""

    KIND = "backend"
    SCHEMES = {s.name: s for s in (
        Scheme("exact"),
        Scheme("hnsw", (Param("m", 32), Param("efc", 200), Param("efs", 128, "query"))),
        Scheme("ivf", (Param("nlist", 0, **_INT0), Param("nprobe", 8, "query"))),
        Scheme("muvera", (Param("rerank", 100, "query", **_INT0), Param("reps", 20),
                          Param("ksim", 5, maximum=12, hint="<int 1..12>"), Param("dproj", 16),
                          Param("seed", 0, **_INT0))),
    )}


NONE = Compression.parse("none")
EXACT = Backend.parse("exact")


def parse_precision(value: str) -> str:
    if value not in PRECISIONS:
        raise SpecError(f"unknown precision '{value}' (Known: {', '.join(PRECISIONS)})")
    return value


@dataclass(frozen=True)
class RunSpec:
    """model x task x variant. Strings are parsed: ``RunSpec(m, t, "fp32")`` holds ``NONE``."""

    model: str
    task: str
    compression: Compression = field(default=NONE)
    backend: Backend = field(default=EXACT)
    k: int = DEFAULT_K
    precision: str = "fp32"

    def __post_init__(self) -> None:
        object.__setattr__(self, "compression", Compression.parse(self.compression))
        object.__setattr__(self, "backend", Backend.parse(self.backend))
        object.__setattr__(self, "precision", parse_precision(self.precision))
        if int(self.k) < 1:
            raise SpecError(f"k must be >= 1, got {self.k}")

    @property
    def variant(self) -> str:
        """'' for the plain model, otherwise e.g. 'int8', 'binary+rescore/hnsw:efs=64/k=10'."""
        parts = [str(self.compression) if self.compression != NONE else "",
                 f"precision={self.precision}" if self.precision != "fp32" else "",
                 str(self.backend) if self.backend != EXACT else "",
                 f"k={self.k}" if self.k != DEFAULT_K else ""]
        return "/".join(p for p in parts if p)

    def unused_axes(self, axes: frozenset[str]) -> list[str]:
        """Axes this spec sets away from their default that a task kind does not use."""
        set_axes = {"compression": self.compression != NONE, "backend": self.backend != EXACT,
                    "k": self.k != DEFAULT_K, "precision": self.precision != "fp32"}
        return [a for a in AXES if set_axes[a] and a not in axes]

    def key_fields(self, axes: frozenset[str]) -> dict[str, Any]:
        """The variant as it enters the run key: only the axes the task kind uses, canonical."""
        values = {"compression": str(self.compression), "backend": str(self.backend),
                  "k": self.k, "precision": self.precision}
        return {a: values[a] for a in AXES if a in axes}


def full_precision_twin(variant: str) -> str | None:
    """The variant of the same run in fp32 (``variant`` without its ``precision=`` part), or None
    when ``variant`` is already fp32: how a bf16/fp16 run finds the run it must be compared to."""
    parts = variant.split("/") if variant else []
    kept = [p for p in parts if not p.startswith("precision=")]
    return None if len(kept) == len(parts) else "/".join(kept)


def precision_twin_deltas(rows: list[tuple[tuple, str, float]]) -> list[float]:
    """For rows (group, variant, value): value minus the value of the row in the same group
    whose variant is this one's fp32 twin; NaN for fp32 rows and rows whose twin is absent.
    (A group is what must match: model, task and data for runs; model for leaderboard rows.)"""
    value = {(group, variant): v for group, variant, v in rows}
    deltas = []
    for group, variant, v in rows:
        twin = full_precision_twin(variant)
        base = value.get((group, twin)) if twin is not None else None
        deltas.append(float("nan") if base is None else v - base)
    return deltas


def grid(models: list[str], tasks: list[str], compressions: tuple[str, ...] = ("none",),
         backends: tuple[str, ...] = ("exact",), k: int = DEFAULT_K,
         precision: str = "fp32") -> list[RunSpec]:
    """Expand -m/-t (and sweep axes) into specs, in a stable order, without duplicates
    (``fp32`` and ``none``, ``hnsw`` and ``hnsw:m=32:efc=200:efs=128`` are one spec each)."""
    specs = [RunSpec(m, t, c, b, k, precision)
             for m, t, c, b in product(models, tasks, compressions, backends)]
    return list(dict.fromkeys(specs))


def canonical_spec(spec: RunSpec, model_key: dict[str, Any], task: dict[str, Any],
                   axes: frozenset[str] = frozenset(AXES)) -> dict[str, Any]:
    from harness.fingerprint import scoring_fingerprint

    return {
        "scoring": scoring_fingerprint(),
        "model": model_key,
        "task": task,
        "variant": spec.key_fields(axes),
    }


def run_key(canonical: dict[str, Any]) -> str:
    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:24]
