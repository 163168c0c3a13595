"""One-file prepared datasets (atomic, checksummed) and PreparedDataset's inputs (normalisation, augmentation)."""

import errno
import os
import struct

import pytest
import torch

from sbadbal.data import PreparedDataset, crop_flip, load_prepared, prepare_dataset, save_prepared
from sbadbal.data import store


def small_images(augmentation="crop_flip_reflect", repeats=2, noise_std=0.0, n=12):
    generator = torch.Generator().manual_seed(0)
    return PreparedDataset(
        name="TINY",
        num_classes=3,
        kind="image",
        base_train_x=torch.randint(0, 256, (n, 3, 8, 8), dtype=torch.uint8, generator=generator),
        base_train_y=torch.arange(n) % 3,
        test_x=torch.randint(0, 256, (5, 3, 8, 8), dtype=torch.uint8, generator=generator),
        test_y=torch.arange(5) % 3,
        mean=(0.5, 0.4, 0.3),
        std=(0.2, 0.25, 0.3),
        augmentation=augmentation,
        repeats=repeats,
        noise_std=noise_std,
        noise_seed=3,
        metadata={"source_files": {"x": "abc"}, "options": {"k": [1, 2]}},
    )


def test_roundtrip_keeps_everything(tmp_path):
    prepared = small_images(noise_std=0.1)
    path = save_prepared(prepared, tmp_path / "sub" / "tiny.pt")
    loaded = load_prepared(path)
    for key in store.TENSOR_FIELDS:
        assert torch.equal(getattr(loaded, key), getattr(prepared, key))
    for key in store.SCALAR_FIELDS:
        assert getattr(loaded, key) == getattr(prepared, key)
    assert loaded.metadata["sha256"] == prepared.metadata["sha256"] == store.prepared_checksum(loaded)
    assert store.preparation_settings(loaded)["mean"] == [0.5, 0.4, 0.3] and store.preparation_settings(loaded)["options"] == {"k": [1, 2]}
    assert loaded.metadata["options"] == {"k": [1, 2]}
    indices = torch.tensor([0, 13, 23])
    assert torch.equal(loaded.train_inputs(indices), prepared.train_inputs(indices))  # noise included
    assert [p.name for p in path.parent.iterdir()] == ["tiny.pt"]  # no temp files left behind


def test_real_mnist5k_roundtrip(tmp_path):
    prepared = prepare_dataset("RMNIST5K", repeats=2)
    loaded = load_prepared(save_prepared(prepared, tmp_path / "RMNIST5K.pt"))
    assert loaded.num_train == 8000 and loaded.metadata["spec"]["name"] == "RMNIST5K"
    assert torch.equal(loaded.train_inputs(torch.arange(0, 8000, 97)), prepared.train_inputs(torch.arange(0, 8000, 97)))


def test_missing_file_names_path_and_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"(?s)nope\.pt does not exist.*prepare_data.*python -m sbadbal prepare"):
        load_prepared(tmp_path / "nope.pt")


def test_truncated_file(tmp_path):
    path = save_prepared(small_images(), tmp_path / "t.pt")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match="corrupt or truncated") as error:
        load_prepared(path)
    assert str(path) in str(error.value)


def test_checksum_mismatch(tmp_path):
    path = tmp_path / "t.pt"
    save_prepared(small_images(), path)
    payload = torch.load(path, weights_only=True)
    payload["tensors"]["test_x"][0, 0, 0, 0] ^= 1  # one flipped bit in the data, the stored checksum kept
    torch.save(payload, path)
    with pytest.raises(ValueError, match="checksum mismatch") as error:
        load_prepared(path)
    assert str(path) in str(error.value)


def test_other_torch_files_are_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"weight": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a prepared dataset"):
        load_prepared(path)
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load_prepared(tmp_path / "text.pt")


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def broken_save(obj, handle):
        handle.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(store.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_prepared(small_images(), tmp_path / "t.pt")
    assert os.listdir(tmp_path) == []


def _mnist5k_file_with_mean(tmp_path, new_mean):
    """A real prepared MNIST5K file whose pickled normalisation mean (8 bytes) was overwritten in place."""
    prepared = prepare_dataset("MNIST5K")
    path = save_prepared(prepared, tmp_path / "results" / "tiny" / "data" / "MNIST5K.pt")
    raw = path.read_bytes()
    at = raw.index(struct.pack(">d", prepared.mean[0]))  # the first copy: fields["mean"], pickled as BINFLOAT
    path.write_bytes(raw[:at] + struct.pack(">d", new_mean) + raw[at + 8 :])
    return path


def test_edited_normalisation_mean_fails_with_the_remake_command(tmp_path):
    # Issue 13 item 2: this edit loaded silently (tensors-only checksum) and changed round-0 accuracy.
    path = _mnist5k_file_with_mean(tmp_path, 0.5)
    payload = torch.load(path, weights_only=True)
    assert payload["fields"]["mean"] == [0.5]  # the edit took, and torch.load still accepts the file
    with pytest.raises(ValueError, match="checksum mismatch") as error:
        load_prepared(path)
    assert str(path) in str(error.value)
    assert f"snakemake --cores 1 --force {path} --config suite=tiny" in str(error.value)


@pytest.mark.parametrize("edit", ["std", "num_classes", "noise_std", "options"])
def test_every_stored_value_is_covered_by_the_checksum(tmp_path, edit):
    path = save_prepared(small_images(), tmp_path / "t.pt")
    payload = torch.load(path, weights_only=True)
    if edit == "options":
        payload["metadata"]["options"]["k"] = [1, 3]
    elif edit == "std":
        payload["fields"]["std"][0] = 0.21
    elif edit == "num_classes":
        payload["fields"]["num_classes"] = 4
    else:
        payload["fields"]["noise_std"] = 0.3
    torch.save(payload, path)
    with pytest.raises(ValueError, match="checksum mismatch"):
        load_prepared(path)


def test_a_file_of_the_tensors_only_format_is_refused_with_the_remake_hint(tmp_path):
    path = save_prepared(small_images(), tmp_path / "t.pt")
    payload = torch.load(path, weights_only=True)
    payload["format"] = "sbadbal.prepared/1"
    torch.save(payload, path)
    with pytest.raises(ValueError, match=r"format sbadbal\.prepared/2.*snakemake --cores 1 --force"):
        load_prepared(path)


def test_full_disk_names_the_file_and_says_no_space(tmp_path, monkeypatch):
    # Issue 13 item 8: torch's path writer reported "basic_ios::clear: iostream error" with no path.
    # /dev/full makes the kernel answer every write with ENOSPC.
    real_open = open

    def open_dev_full(file, mode="r", *args, **kwargs):
        return real_open("/dev/full", mode, *args, **kwargs) if str(file).endswith(".tmp") else real_open(file, mode, *args, **kwargs)

    if not os.path.exists("/dev/full"):
        pytest.skip("/dev/full is Linux-only")
    monkeypatch.setattr("builtins.open", open_dev_full)
    target = tmp_path / "MNIST5K.pt"
    with pytest.raises(OSError, match="no space left on device") as error:
        save_prepared(small_images(n=3000), target)
    assert str(target) in str(error.value) and error.value.errno == errno.ENOSPC
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------ PreparedDataset behaviour


def test_normalisation_uses_the_datasets_statistics():
    prepared = small_images(augmentation="none", repeats=1)
    x = prepared.train_inputs(torch.arange(12))
    expected = (prepared.base_train_x.float() / 255 - torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1)) / torch.tensor([0.2, 0.25, 0.3]).view(1, 3, 1, 1)
    assert x.dtype == torch.float32 and torch.allclose(x, expected)
    assert torch.allclose(prepared.test_inputs(torch.arange(5)), (prepared.test_x.float() / 255 - torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1)) / torch.tensor([0.2, 0.25, 0.3]).view(1, 3, 1, 1))


def test_augmentation_only_on_request():
    prepared = small_images()
    indices = torch.arange(24)
    plain = prepared.train_inputs(indices)
    assert torch.equal(plain, prepared.train_inputs(indices))  # pool scoring and validation: never augmented
    augmented = prepared.train_inputs(indices, augment=True, generator=torch.Generator().manual_seed(1))
    again = prepared.train_inputs(indices, augment=True, generator=torch.Generator().manual_seed(1))
    assert torch.equal(augmented, again) and not torch.equal(augmented, plain)
    unaugmented = small_images(augmentation="none")
    assert torch.equal(unaugmented.train_inputs(indices, augment=True), unaugmented.train_inputs(indices))


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect"])
def test_crop_flip_is_a_shift_and_maybe_a_mirror(padding_mode):
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).view(2, 3, 6, 6) + 1
    out = crop_flip(x, padding=2, padding_mode=padding_mode, generator=torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(x, (2,) * 4, mode="constant" if padding_mode == "zeros" else "reflect")
    for image, result in zip(padded, out):
        windows = [image[:, r : r + 6, c : c + 6] for r in range(5) for c in range(5)]
        assert any(torch.equal(result, w) or torch.equal(result, w.flip(-1)) for w in windows)
    no_padding = crop_flip(x, padding=0, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(o, i) or torch.equal(o, i.flip(-1)) for o, i in zip(no_padding, x))


def test_repeat_indices_and_targets():
    prepared = small_images(repeats=3)
    assert prepared.num_train == 36 and torch.equal(prepared.train_targets, (torch.arange(12) % 3).repeat(3))
    assert torch.equal(prepared.train_inputs(torch.tensor([4])), prepared.train_inputs(torch.tensor([28])))


def test_inconsistent_arrays_are_refused():
    good = small_images()
    with pytest.raises(ValueError, match="do not pair up"):
        PreparedDataset("X", 3, "image", good.base_train_x, good.base_train_y[:-1], good.test_x, good.test_y)
    with pytest.raises(ValueError, match=r"labels must lie in 0..1"):
        PreparedDataset("X", 2, "image", good.base_train_x, good.base_train_y, good.test_x, good.test_y)
    with pytest.raises(ValueError, match="uint8"):
        PreparedDataset("X", 3, "image", good.base_train_x.float(), good.base_train_y, good.test_x.float(), good.test_y)
    with pytest.raises(ValueError, match="image datasets only"):
        PreparedDataset("X", 3, "embedding", torch.zeros(4, 5), torch.zeros(4, dtype=torch.long), torch.zeros(2, 5),
                        torch.zeros(2, dtype=torch.long), noise_std=0.1)


def test_prepare_cli_writes_one_file_or_nothing(tmp_path, capsys):
    from sbadbal.__main__ import main

    assert main(["prepare", "MNIST5K", "--out", str(tmp_path / "m.pt"), "--option", "test_fraction=0.1"]) == 0
    assert load_prepared(tmp_path / "m.pt").num_test == 500
    assert main(["prepare", "MNIST", "--out", str(tmp_path / "x.pt"), "--data-dir", str(tmp_path / "empty")]) == 2
    assert "MNIST data not found" in capsys.readouterr().err and not (tmp_path / "x.pt").exists()
