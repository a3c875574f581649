"""Token-sequence layers: learned positional embeddings, rotary position embeddings, a class
token, selecting one token, and transposing axes.

Shapes exclude the batch: a sequence of ``L`` tokens of ``E`` features is ``(L, E)``.
Views (`Transpose`, `Select`) do no arithmetic and move no data, as `Flatten` and `Reshape`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..cost import Cost
from ..dims import Dim, as_count, as_dim, as_index, eq, fmt, ge, prod, require, to_expr
from ..errors import LayerSpecError, ShapeError
from ._base import Layer, choice, dim

__all__ = ["PositionalEmbedding", "RotaryEmbedding", "ClassToken", "Select", "Transpose"]


def _torch_axis(layer: Layer, name: str, d: int, shape: tuple[Dim, ...]) -> int:
    """Axis of the batch-free `shape` for PyTorch's dim `d` (which counts the batch as 0)."""
    r = len(shape)
    if not (-r <= d <= r) or d == 0:
        raise ShapeError(layer.kind, f"{name} (={d}) is out of range for input shape "
                         f"{fmt(shape)} (batch excluded); valid: 1..{r} or -{r}..-1")
    return d - 1 if d > 0 else r + d


def _torch_dim_field(layer: Layer, name: str, value: Any) -> int:
    value = as_index(value, layer.kind, name)
    object.__setattr__(layer, name, value)
    if value == 0:
        raise LayerSpecError(layer.kind, f"{name} (=0) is the batch axis; shapes here exclude "
                             "the batch", "dim=1 is the first axis of the batch-free shape.")
    return value


@dataclass(frozen=True)
class PositionalEmbedding(Layer):
    """A learned table added to a sequence: ``x + table[ids]`` with one row per token.

    Input and output ``(L, embedding_dim)``. `rows` says which row each token gets:

    - ``"positions"`` (default): row ``i`` for token ``i``, learned absolute positions as
      GPT-2's ``wpe`` (an ``nn.Embedding`` looked up with ``arange(L)``, then
      ``inputs_embeds + position_embeds``) and BERT's ``position_embeddings``; the sequence may
      be at most ``num_embeddings`` long;
    - ``"ids"``: rows looked up by per-token ids (BERT's ``token_type_embeddings``), any length;
    - ``"all"``: the whole table is added, as torchvision ViT's ``pos_embedding`` parameter of
      shape ``(1, num_embeddings, E)``; the sequence must be exactly ``num_embeddings`` long.

    params = ``num_embeddings * embedding_dim``; ops: ``L*E`` adds (the lookup is a gather, no
    arithmetic). Memory: ``x`` and the ``L`` gathered rows are read (``2*L*E``, per sample, as
    `Embedding` counts gathered rows as activation traffic), ``L*E`` written.

    >>> c = PositionalEmbedding(1024, 768).cost((1024, 768))  # GPT-2's wpe
    >>> c.params, dict(c.ops)
    (786432, {'add': 786432})
    """

    num_embeddings: Dim = dim()
    embedding_dim: Dim = dim()
    rows: str = choice("positions", ("positions", "ids", "all"))

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, 2, layout="(L, embedding_dim)")
        require(eq(shape[1], self.embedding_dim), self.kind,
                lambda: f"expected {self.embedding_dim} features (embedding_dim), got input "
                f"shape {fmt(shape)}", error=ShapeError)
        if self.rows == "positions":
            require(ge(self.num_embeddings, shape[0]), self.kind,
                    lambda: f"sequence length (={shape[0]}) exceeds the {self.num_embeddings} "
                    "learned positions (num_embeddings)", error=ShapeError)
        elif self.rows == "all":
            require(eq(self.num_embeddings, shape[0]), self.kind,
                    lambda: f"sequence length (={shape[0]}) must equal num_embeddings "
                    f"(={self.num_embeddings}): the whole table is added (rows='all')",
                    error=ShapeError)
        return shape

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        n = prod(y)
        return Cost(params=as_count(self.num_embeddings * self.embedding_dim),
                    ops={"add": n}, act_reads=as_count(2 * n), writes=n)


@dataclass(frozen=True)
class RotaryEmbedding(Layer):
    """Rotary position embedding (RoPE) applied to queries and keys, as Hugging Face's
    ``apply_rotary_pos_emb``: ``x * cos + rotate_half(x) * sin`` on every head.

    ``cost(q, k=None)``: queries ``(L, n_q*head_dim)`` and keys ``(S, n_kv*head_dim)``;
    output the query shape (keys keep theirs). No parameters (the ``inv_freq`` table is a
    non-persistent buffer derived from ``rope_theta``).

    Counted per element of ``q`` and ``k``: **2 mul** (by ``cos`` and by ``sin``) and **1 add**;
    ``rotate_half``'s negation is a free sign flip and its ``cat`` a copy. Not counted: the
    ``cos``/``sin`` tables, computed once per forward pass for all layers
    (``LlamaRotaryEmbedding``: ``L*head_dim/2`` muls for the angles and ``L*head_dim`` cosines
    and sines, a kind of op this package has no name for). Memory: ``q``, ``k`` and the
    ``cos``/``sin`` rows (``2*head_dim`` per position of each) read, ``q`` and ``k`` written.

    References
    ==========
    .. [1] Su et al., "RoFormer: Enhanced Transformer with Rotary Position Embedding", 2021,
       https://arxiv.org/abs/2104.09864, eq. 34.
    .. [2] Hugging Face transformers, ``models/llama/modeling_llama.py``
       (``rotate_half``, ``apply_rotary_pos_emb``).

    >>> dict(RotaryEmbedding(128).cost((10, 4096), (10, 1024)).ops)  # Llama-3-8B, 10 tokens
    {'add': 51200, 'mul': 102400}
    """

    head_dim: Dim = dim()

    def check(self) -> None:
        d = self.head_dim
        even = (d % 2 == 0) if type(d) is int else (False if (to_expr(d) / 2).is_integer
                                                     is False else None)
        require(even, self.kind, lambda: f"head_dim (={d}) must be even (features rotate in "
                "pairs)")

    def _one(self, x: Any, what: str) -> tuple[Dim, ...]:
        shape = self._input(x, 2, layout=f"({what}, heads*head_dim)")
        d = self.head_dim
        if type(shape[1]) is int and type(d) is int:
            ok: Any = shape[1] % d == 0
        else:
            ok = False if (to_expr(shape[1]) / d).is_integer is False else None
        require(ok, self.kind, lambda: f"{what} features (={shape[1]}) must be a multiple of "
                f"head_dim (={d})", error=ShapeError)
        return shape

    def output_shape(self, x: Any, k: Any = None) -> tuple[Dim, ...]:
        q = self._one(x, "query")
        if k is not None:
            self._one(k, "key")
        return q

    def cost(self, x: Any, k: Any = None) -> Cost:
        shapes = [self._one(x, "query")] + ([] if k is None else [self._one(k, "key")])
        n = as_count(sum(prod(s) for s in shapes))
        tables = as_count(sum(2 * s[0] * self.head_dim for s in shapes))
        return Cost(ops={"mul": 2 * n, "add": n}, act_reads=as_count(n + tables), writes=n,
                    notes=("RoPE: the cos/sin tables (computed once per forward) are not "
                           "counted",))


@dataclass(frozen=True)
class ClassToken(Layer):
    """Learned tokens prepended to a sequence, as torchvision ViT's ``class_token``:
    ``torch.cat([class_token.expand(n, -1, -1), x], dim=1)``. ``(L, E) -> (L + num_tokens, E)``.

    params = ``num_tokens * embed_dim``; no arithmetic; ``torch.cat`` copies, so ``x`` is read
    and the output written (the tokens are weight reads).

    >>> ClassToken(768).output_shape((196, 768)), ClassToken(768).cost((196, 768)).params
    ((197, 768), 768)
    """

    embed_dim: Dim = dim()
    num_tokens: Dim = dim(1)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, 2, layout="(L, embed_dim)")
        require(eq(shape[1], self.embed_dim), self.kind,
                lambda: f"expected {self.embed_dim} features (embed_dim), got input shape "
                f"{fmt(shape)}", error=ShapeError)
        return (as_count(shape[0] + self.num_tokens), shape[1])

    def cost(self, x: Any) -> Cost:
        y = self.output_shape(x)
        p = as_count(self.num_tokens * self.embed_dim)
        return Cost(params=p, weight_reads=p, act_reads=prod(self._input(x)), writes=prod(y))


@dataclass(frozen=True)
class Select(Layer):
    """``torch.select(x, dim, index)`` (``x[:, 0]`` is ``Select(1, 0)``): one entry along
    `dim`, which disappears. A view: no ops, no traffic. `dim` is PyTorch's, counting the batch
    as dim 0 (so ``dim=1`` is the first axis of the batch-free shape); a negative `index`
    counts from the end.

    Takes the class token in torchvision's ViT (``x[:, 0]``) and BERT's pooler
    (``hidden_states[:, 0]``).

    >>> Select(1, 0).output_shape((197, 768))
    (768,)
    """

    dim: int = 1
    index: Any = 0

    def check(self) -> None:
        _torch_dim_field(self, "dim", self.dim)
        i = self.index
        if type(i) is int and i < 0:
            object.__setattr__(self, "index", as_index(i, self.kind, "index"))
        else:
            object.__setattr__(self, "index", as_dim(i, self.kind, "index", minimum=0))

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = self._input(x, min_rank=1)
        ax = _torch_axis(self, "dim", self.dim, shape)
        n, i = shape[ax], self.index
        fits = ge(n, -i) if type(i) is int and i < 0 else ge(n, as_count(i + 1))
        require(fits, self.kind, lambda: f"index (={i}) is out of range for size {n} of input "
                f"shape {fmt(shape)}", error=ShapeError)
        return (*shape[:ax], *shape[ax + 1:])

    def cost(self, x: Any) -> Cost:
        self.output_shape(x)
        return Cost()


@dataclass(frozen=True)
class Transpose(Layer):
    """``torch.transpose(x, dim0, dim1)``: swaps two axes. A view: no ops, no traffic (the
    consumer reads the strided view). Dims are PyTorch's, counting the batch as dim 0, so
    ``x.permute(0, 2, 1)`` of a batched ``(N, C, L)`` tensor is ``Transpose(1, 2)``.

    >>> Transpose(1, 2).output_shape((768, 196))
    (196, 768)
    """

    dim0: int = 1
    dim1: int = 2

    def check(self) -> None:
        _torch_dim_field(self, "dim0", self.dim0)
        _torch_dim_field(self, "dim1", self.dim1)

    def output_shape(self, x: Any) -> tuple[Dim, ...]:
        shape = list(self._input(x, min_rank=1))
        a = _torch_axis(self, "dim0", self.dim0, tuple(shape))
        b = _torch_axis(self, "dim1", self.dim1, tuple(shape))
        shape[a], shape[b] = shape[b], shape[a]
        return tuple(shape)

    def cost(self, x: Any) -> Cost:
        self.output_shape(x)
        return Cost()
