"""AG News: CSV/parquet/HF sources, stratified subsets and splits, the embedding cache, the real encoder."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from sbadbal.data import DataNotFoundError, prepare_dataset
from sbadbal.data import agnews

REAL_TEST_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "ag_news" / "test.csv"
_REPO = Path(__file__).resolve().parents[2]
# The real split inside the project (data/ag_news, ignored by git) or in a shared folder beside the checkout.
REAL_TEST_CSV_FOR_REFERENCE = next(
    (path for path in (_REPO / "data" / "ag_news" / "test.csv", REAL_TEST_CSV,
                       _REPO.parents[1] / "shared" / "data" / "ag_news" / "test.csv") if path.is_file()),
    None,
)


class HashEncoder:
    """A cheap deterministic stand-in for the sentence encoder that records what it was asked to embed."""

    __name__ = "hash-encoder"

    def __init__(self):
        self.seen = []

    def __call__(self, texts):
        self.seen.extend(texts)
        vectors = [torch.tensor([float(int(agnews.text_key(t)[i : i + 2], 16)) for i in range(0, 16, 2)]) for t in texts]
        return torch.nn.functional.normalize(torch.stack(vectors), dim=1)


def test_csv_in_original_format(tmp_path, fmt):
    path = fmt.write_agnews_csv(tmp_path / "a.csv", fmt.agnews_rows(3))
    docs = agnews.read_agnews_csv(path)
    assert len(docs.texts) == 12 and docs.labels.tolist()[:4] == [0, 1, 2, 3]  # 1-based on disk
    assert docs.texts[0] == 'Title 1-0, with a comma Description "1" number 0'  # title + " " + description
    with_header = fmt.write_agnews_csv(tmp_path / "h.csv", fmt.agnews_rows(3), header=True)
    assert agnews.read_agnews_csv(with_header).texts == docs.texts


@pytest.mark.parametrize("content, message", [
    ('"1","only a title"\n', "2 fields"),
    ('"5","t","d"\n', "outside 1..4"),
    ('"0","t","d"\n', "outside 1..4"),
    ('"1","t","d"\n"z","t","d"\n', "not an integer"),
    ("", "no documents"),
])
def test_unreadable_csv_raises_naming_file(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        prepare_dataset("AGNEWS", local_csv=path, encoder=HashEncoder())
    assert str(path) in str(error.value)


def test_binary_garbage_csv(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(ValueError, match="not a readable AG News CSV"):
        prepare_dataset("AGNEWS", local_csv=path, encoder=HashEncoder())


def test_one_local_file_is_split_stratified_with_a_fixed_seed(tmp_path, fmt):
    path = fmt.write_agnews_csv(tmp_path / "all.csv", fmt.agnews_rows(10))
    first = prepare_dataset("AGNEWS", local_csv=path, encoder=HashEncoder())
    again = prepare_dataset("AGNEWS", local_csv=path, encoder=HashEncoder())
    assert (first.num_train, first.num_test) == (32, 8)
    assert first.train_targets.bincount().tolist() == [8] * 4 and first.test_targets.bincount().tolist() == [2] * 4
    assert torch.equal(first.base_train_x, again.base_train_x) and first.input_shape == (8,)
    other = prepare_dataset("AGNEWS", local_csv=path, encoder=HashEncoder(), split_seed=1)
    assert not torch.equal(first.base_train_x, other.base_train_x)
    # no document in both splits
    train_rows = {tuple(v.tolist()) for v in first.base_train_x}
    assert not any(tuple(v.tolist()) in train_rows for v in first.test_x)


def test_max_rows_takes_a_stratified_subset_and_embeds_only_it(tmp_path, fmt):
    path = fmt.write_agnews_csv(tmp_path / "all.csv", fmt.agnews_rows(25))
    encoder = HashEncoder()
    prepared = prepare_dataset("AGNEWS", local_csv=path, encoder=encoder, max_rows=20, test_fraction=0.25)
    assert len(encoder.seen) == 20 and (prepared.num_train, prepared.num_test) == (16, 4)
    assert prepared.train_targets.bincount().tolist() == [4] * 4


def test_train_and_test_files_from_data_dir_csv_and_parquet(tmp_path, fmt):
    fmt.write_agnews_csv(tmp_path / "ag_news" / "train.csv", fmt.agnews_rows(5))
    rows = fmt.agnews_rows(2)
    pd.DataFrame({"text": [f"{r[1]} {r[2]}" for r in rows], "label": [int(r[0]) - 1 for r in rows]}).to_parquet(
        tmp_path / "ag_news" / "test.parquet"
    )
    prepared = prepare_dataset("AGNEWS", data_dir=tmp_path, encoder=HashEncoder())
    assert (prepared.num_train, prepared.num_test) == (20, 8)
    assert prepared.test_targets.tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    original = pd.DataFrame({"Class Index": [int(r[0]) for r in rows], "Title": [r[1] for r in rows], "Description": [r[2] for r in rows]})
    original.to_parquet(tmp_path / "orig.parquet")
    docs = agnews.read_agnews_parquet(tmp_path / "orig.parquet")
    assert docs.texts == [f"{r[1]} {r[2]}" for r in rows] and docs.labels.tolist() == [0, 1, 2, 3] * 2


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "x.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(ValueError, match="not a readable parquet") as error:
        prepare_dataset("AGNEWS", local_csv=path, encoder=HashEncoder())
    assert str(path) in str(error.value)


def test_missing_agnews_names_files_and_place(tmp_path):
    with pytest.raises(DataNotFoundError) as error:
        prepare_dataset("AGNEWS", data_dir=tmp_path, encoder=HashEncoder())
    message = str(error.value)
    assert "train{.csv,.parquet}, test{.csv,.parquet}" in message and str(tmp_path / "ag_news") in message
    assert "snakemake --cores 1 retrieve --config suite=" in message
    with pytest.raises(DataNotFoundError, match="does not exist"):
        prepare_dataset("AGNEWS", local_csv=tmp_path / "nope.csv", encoder=HashEncoder())


def test_hf_retrieval_writes_parquet_that_preparation_reads(tmp_path, monkeypatch):
    """Retrieval (sbadbal/data/retrieve.py) with HF's network step replaced by a real in-memory DatasetDict."""
    import datasets

    from sbadbal.data.retrieve import AGNEWS_HF_REVISION, RetrievalError, retrieve

    asked = []

    def fake_load_dataset(dataset_id, revision=None, cache_dir=None):
        asked.append((dataset_id, revision, cache_dir))
        split = {"text": ["a b", "c d", "e f", "g h"], "label": [0, 1, 2, 3], "extra": [1, 2, 3, 4]}
        return datasets.DatasetDict({"train": datasets.Dataset.from_dict(split),
                                     "test": datasets.Dataset.from_dict(split)})

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    manifest = retrieve("AGNEWS", tmp_path, log=lambda line: None)
    # pinned: a later push to the dataset repository cannot change the rows
    assert asked == [("fancyzhx/ag_news", AGNEWS_HF_REVISION, str(tmp_path / "hf"))]
    assert manifest["fetched"] == [f"hf:fancyzhx/ag_news@{AGNEWS_HF_REVISION}"]
    assert sorted(path.name for path in (tmp_path / "ag_news").iterdir()) == ["test.parquet", "train.parquet"]
    prepared = prepare_dataset("AGNEWS", data_dir=tmp_path, encoder=HashEncoder())
    assert prepared.num_train == 4 and prepared.train_targets.tolist() == [0, 1, 2, 3]
    assert retrieve("AGNEWS", tmp_path, log=lambda line: None)["fetched"] == []  # in place: asked nothing
    assert len(asked) == 1

    def offline(dataset_id, revision=None, cache_dir=None):
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(RetrievalError, match="fancyzhx/ag_news: ConnectionError: offline"):
        retrieve("AGNEWS", tmp_path / "empty", log=lambda line: None)
    assert not (tmp_path / "empty" / "ag_news").exists() or not any((tmp_path / "empty" / "ag_news").iterdir())


def test_embedding_cache_by_text_hash(tmp_path):
    encoder = HashEncoder()
    cache = agnews.cache_path(tmp_path, "hash-encoder")
    first, computed = agnews.embed_texts(["a", "b", "a"], encoder, cache_file=cache)
    assert computed == 2 and encoder.seen == ["a", "b"] and cache.is_file()
    second, computed = agnews.embed_texts(["b", "c", "a"], encoder, cache_file=cache)
    assert computed == 1 and encoder.seen == ["a", "b", "c"]
    assert torch.equal(second[0], first[1]) and torch.equal(second[2], first[0])
    cache.write_bytes(b"broken")  # a broken cache costs recomputation, not a failure
    third, computed = agnews.embed_texts(["a"], encoder, cache_file=cache)
    assert computed == 1 and torch.equal(third[0], first[0])


def test_a_csv_with_a_byte_order_mark_keeps_its_first_row(tmp_path, fmt):
    # Issue 20 group 3: the BOM made the first row's class index '\ufeff1', which was then skipped as a header.
    plain = fmt.write_agnews_csv(tmp_path / "a.csv", fmt.agnews_rows(3))
    with_bom = tmp_path / "bom.csv"
    with_bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    docs = agnews.read_agnews_csv(with_bom)
    assert docs.texts == agnews.read_agnews_csv(plain).texts and len(docs.texts) == 12
    assert docs.labels.tolist() == agnews.read_agnews_csv(plain).labels.tolist()


def test_a_degenerate_embedding_cache_is_refused_naming_it(tmp_path):
    # Issue 20 group 3: a cache of one constant vector under the real keys was used (1 distinct input of 240).
    texts = [f"document {i}" for i in range(240)]
    cache = agnews.cache_path(tmp_path, "hash-encoder")
    agnews._save_cache(cache, {agnews.text_key(t): torch.full((8,), 0.25) for t in texts})
    with pytest.raises(ValueError) as caught:
        agnews.embed_texts(texts, HashEncoder(), cache_file=cache)
    message = str(caught.value)
    assert str(cache) in message and "1 distinct vector(s) for 240 distinct texts" in message
    assert f"rm {cache}" in message and "\n" not in message
    nan_cache = agnews.cache_path(tmp_path, "nan-encoder")
    agnews._save_cache(nan_cache, {agnews.text_key(t): torch.full((8,), float("nan")) for t in texts[:3]})
    with pytest.raises(ValueError, match="NaN or infinite"):
        agnews.embed_texts(texts[:3], HashEncoder(), cache_file=nan_cache)
    # An encoder's own cache passes, duplicates of one text included.
    good = agnews.cache_path(tmp_path, "good")
    agnews.embed_texts(texts, HashEncoder(), cache_file=good)
    vectors, computed = agnews.embed_texts(texts + texts[:5], HashEncoder(), cache_file=good)
    assert computed == 0 and vectors.shape == (245, 8)


def test_unknown_encoder_offline(tmp_path, fmt):
    path = fmt.write_agnews_csv(tmp_path / "a.csv", fmt.agnews_rows(5))
    with pytest.raises(FileNotFoundError, match="not-a-model"):
        prepare_dataset("AGNEWS", local_csv=path, encoder="not-a-model")


@pytest.mark.skipif(not REAL_TEST_CSV.is_file(), reason="the real AG News test split is not at ../shared/data/ag_news")
def test_real_agnews_test_split_reads_and_embeds(tmp_path):
    docs = agnews.read_agnews_csv(REAL_TEST_CSV)
    assert len(docs.texts) == 7600 and docs.labels.bincount().tolist() == [1900] * 4
    assert docs.texts[0].startswith("Fears for T N pension after talks Unions representing workers")
    prepared = prepare_dataset("AGNEWS", local_csv=REAL_TEST_CSV, max_rows=20, data_dir=tmp_path)
    assert (prepared.num_train, prepared.num_test, prepared.input_shape) == (16, 4, (384,))
    assert prepared.train_targets.bincount().tolist() == [4] * 4
    norms = prepared.base_train_x.norm(dim=1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-5)
    assert prepared.metadata["embedding"]["computed"] == 20 and prepared.metadata["embedding"]["max_seq_length"] == 256
    # same texts again: everything comes from the cache under data_dir, identical vectors
    cached = prepare_dataset("AGNEWS", local_csv=REAL_TEST_CSV, max_rows=20, data_dir=tmp_path)
    assert cached.metadata["embedding"]["computed"] == 0 and torch.equal(cached.base_train_x, prepared.base_train_x)
    # topic structure: documents of a class are closer to their class mean than to the other classes' means
    means_C_D = torch.stack([prepared.base_train_x[prepared.train_targets == c].mean(0) for c in range(4)])
    assert (prepared.test_x @ means_C_D.T).argmax(1).eq(prepared.test_targets).float().mean() >= 0.5


@pytest.mark.skipif(REAL_TEST_CSV_FOR_REFERENCE is None, reason="the real AG News test split (test.csv) is not here")
def test_embeddings_unchanged_from_the_hand_written_encoder():
    # agnews_minilm_reference.npz holds what the earlier hand-written encoder (transformers + mean pooling + L2)
    # computed for every 250th row of the real test split plus one text truncated at 256 tokens.
    reference = np.load(Path(__file__).with_name("agnews_minilm_reference.npz"))
    texts = [agnews.read_agnews_csv(REAL_TEST_CSV_FOR_REFERENCE).texts[row] for row in reference["rows"]] + ["long " * 400]
    assert [agnews.text_key(t) for t in texts] == reference["text_sha256"].tolist()
    encoder = agnews.SentenceEncoder()
    assert encoder.describe()["max_seq_length"] == 256
    assert torch.allclose(encoder(texts), torch.from_numpy(reference["vectors"]), atol=1e-5)
    assert encoder([]).shape == (0, 384)


@pytest.mark.slow
@pytest.mark.skipif(not REAL_TEST_CSV.is_file(), reason="the real AG News test split is not at ../shared/data/ag_news")
def test_full_real_agnews_test_split(tmp_path):
    prepared = prepare_dataset("AGNEWS", local_csv=REAL_TEST_CSV, data_dir=tmp_path)
    assert (prepared.num_train, prepared.num_test) == (6080, 1520)


def test_prepared_agnews_saves_and_loads(tmp_path, fmt):
    from sbadbal.data import load_prepared, save_prepared

    path = fmt.write_agnews_csv(tmp_path / "a.csv", fmt.agnews_rows(5))
    prepared = prepare_dataset("AGNEWS", local_csv=path, encoder=HashEncoder(), data_dir=tmp_path)
    loaded = load_prepared(save_prepared(prepared, tmp_path / "AGNEWS.pt"))
    assert loaded.kind == "embedding" and torch.equal(loaded.train_inputs(torch.arange(16)), prepared.base_train_x)
    assert loaded.metadata["embedding"]["encoder"] == "hash-encoder" and str(path) in loaded.metadata["source_files"]
