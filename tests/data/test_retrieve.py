"""Retrieval (sbadbal/data/retrieve.py) against a real HTTP mirror on this machine serving small archives in each
source's published format, and preparation reading what it wrote without ever touching the network."""

from __future__ import annotations

import hashlib
import io
import socket
import tarfile
import urllib.request
import zipfile
from pathlib import Path

import pytest
import torch

from sbadbal.data import DataNotFoundError, prepare_dataset
from sbadbal.data.layouts import RAW_LAYOUTS, raw_source
from sbadbal.data.retrieve import ORIGINS, Archive, Origins, RetrievalError, _mirrored, md5_file, retrieve

from ..system_packages import require_system
from .mirror import Mirror


def quiet(line: str) -> None:
    pass


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def mnist_archives(fmt, folder: Path) -> tuple[tuple[str, str], ...]:
    """The four published .gz files of an MNIST-style source, written into `folder`: (name, md5)."""
    fmt.write_mnist_like(folder, gz=True)
    return tuple((f"{name}.gz", md5(folder / f"{name}.gz")) for name in fmt.MNIST_NAMES)


def emnist_zip(fmt, folder: Path) -> Path:
    """gzip.zip as NIST publishes it: every split's .gz files under gzip/ (here balanced and one decoy split)."""
    staging = folder / "staging"
    fmt.write_mnist_like(staging, n_train=94, n_test=47, classes=47, gz=True, prefix="emnist-balanced")
    fmt.write_mnist_like(staging, n_train=10, n_test=10, classes=10, gz=True, prefix="emnist-digits")
    path = folder / "gzip.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(staging.iterdir()):
            archive.write(file, f"gzip/{file.name}")
    return path


def cifar10_tar(fmt, folder: Path) -> Path:
    staging = folder / "staging"
    fmt.write_cifar10(staging)
    (staging / "cifar-10-batches-py" / "batches.meta").write_bytes(b"meta")
    path = folder / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        archive.add(staging / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    return path


def test_every_layout_has_origins_whose_outputs_are_its_files():
    for name, layout in RAW_LAYOUTS.items():
        origins = ORIGINS[name]
        assert origins.archives or origins.hf, name
        outputs = {output for archive in origins.archives for output in archive.outputs()}
        if origins.archives:
            # Each file the loader reads, under a name the layout accepts.
            assert all(any(f"{file}{s}" in outputs for s in layout.suffixes) for file in layout.files), name
        assert all(a.md5 and len(a.md5) == 32 and a.urls for a in origins.archives), name


@pytest.mark.parametrize("dataset, raw", [("MNIST", "MNIST"), ("RMNIST", "MNIST"), ("RCIFAR100", "CIFAR100"),
                                          ("MNIST5K", None)])
def test_a_dataset_reads_its_base_source(dataset, raw):
    from sbadbal.data.records import dataset_spec

    assert raw_source(dataset_spec(dataset).base) == raw
    assert raw_source("AGNEWS") == "AGNEWS" and raw_source("AGNEWS", {"local_csv": "x.csv"}) is None


def test_idx_files_from_the_second_mirror_verified_then_prepared(tmp_path, fmt):
    served = tmp_path / "served"
    archives = mnist_archives(fmt, served / "b")
    origins = Origins(_mirrored(archives, ("MIRROR/a/", "MIRROR/b/")))  # the first mirror has nothing: 404s
    root = tmp_path / "root"
    with Mirror(served) as mirror:
        origins = Origins(tuple(Archive(a.name, a.md5, tuple(u.replace("MIRROR/", mirror.url) for u in a.urls))
                                for a in origins.archives))
        manifest = retrieve("MNIST", root, origins=origins, log=quiet)
        assert [r.status for r in mirror.requests] == [404, 200] * 4
        again = retrieve("MNIST", root, origins=origins, log=quiet)
        assert len(mirror.requests) == 8, "a second retrieval fetches nothing"
    destination = root / "MNIST" / "raw"
    assert sorted(p.name for p in destination.iterdir()) == sorted(name for name, _ in archives)
    assert manifest["fetched"] == [f"{mirror.url}b/{name}" for name, _ in archives] and again["fetched"] == []
    prepared = prepare_dataset("MNIST", data_dir=root)
    assert prepared.num_train == 30 and prepared.num_test == 20


def test_a_corrupt_or_truncated_download_leaves_nothing_behind(tmp_path, fmt):
    served = tmp_path / "served"
    archives = mnist_archives(fmt, served)
    name, good_md5 = archives[0]
    (served / "bad").mkdir()
    (served / "bad" / name).write_bytes((served / name).read_bytes()[:-7])  # truncated: another md5
    root = tmp_path / "root"
    with Mirror(served) as mirror:
        origins = Origins((Archive(name, good_md5, (f"{mirror.url}bad/{name}", f"{mirror.url}missing/{name}")),))
        with pytest.raises(RetrievalError) as error:
            retrieve("MNIST", root, origins=origins, log=quiet)
    message = str(error.value)
    assert f"md5 {md5(served / 'bad' / name)}, expected {good_md5}" in message and "HTTPError: HTTP Error 404" in message
    assert list((root / "MNIST" / "raw").iterdir()) == []  # no partial file, no temporary left over


def test_emnist_takes_the_balanced_split_out_of_the_zip(tmp_path, fmt):
    served = tmp_path / "served"
    served.mkdir()
    archive = emnist_zip(fmt, served)
    root = tmp_path / "root"
    with Mirror(served) as mirror:
        members = ORIGINS["EMNIST"].archives[0].members
        origins = Origins((Archive("gzip.zip", md5(archive), (f"{mirror.url}gzip.zip",), members),))
        retrieve("EMNIST", root, origins=origins, log=quiet)
    assert sorted(p.name for p in (root / "EMNIST" / "raw").iterdir()) == sorted(
        f"{n}.gz" for n in RAW_LAYOUTS["EMNIST"].files)  # the balanced split only, and no zip left
    prepared = prepare_dataset("EMNIST", data_dir=root)
    assert prepared.num_classes == 47 and prepared.num_train == 94


def test_cifar10_extracts_the_batches_the_loader_reads(tmp_path, fmt):
    served = tmp_path / "served"
    served.mkdir()
    archive = cifar10_tar(fmt, served)
    root = tmp_path / "root"
    with Mirror(served) as mirror:
        origins = Origins((Archive(archive.name, md5(archive), (f"{mirror.url}{archive.name}",),
                                   ORIGINS["CIFAR10"].archives[0].members),))
        retrieve("CIFAR10", root, origins=origins, log=quiet)
    assert sorted(p.name for p in (root / "cifar-10-batches-py").iterdir()) == sorted(RAW_LAYOUTS["CIFAR10"].files)
    assert prepare_dataset("RCIFAR10", data_dir=root, repeats=2).num_train == 80


def test_svhn_mat_files(tmp_path, fmt):
    served = tmp_path / "served"
    served.mkdir()
    fmt.write_svhn(served)
    root = tmp_path / "root"
    with Mirror(served) as mirror:
        names = (("train_32x32.mat", md5(served / "train_32x32.mat")), ("test_32x32.mat", md5(served / "test_32x32.mat")))
        retrieve("SVHN", root, origins=Origins(_mirrored(names, (mirror.url,))), log=quiet)
    assert (root / "SVHN" / "train_32x32.mat").is_file()
    assert prepare_dataset("SVHN", data_dir=root).num_train == 15


def test_files_already_in_another_layout_are_left_alone(tmp_path, fmt):
    fmt.write_mnist_like(tmp_path / "mnist")  # the lower-case folder, uncompressed: a cluster's shared copy
    origins = Origins((Archive("x.gz", "0" * 32, ("http://127.0.0.1:9/unreachable",)),))
    manifest = retrieve("MNIST", tmp_path, origins=origins, log=quiet)
    assert manifest["fetched"] == [] and set(manifest["files"]) == set(RAW_LAYOUTS["MNIST"].files)
    assert all(Path(path).parent == tmp_path / "mnist" for path in manifest["files"].values())


def test_a_local_copy_is_taken_when_verified_else_the_mirror(tmp_path, fmt):
    """Debian's Fashion-MNIST path: a folder holding the published .gz files is copied from, not downloaded."""
    served = tmp_path / "served"
    archives = mnist_archives(fmt, served)
    package = tmp_path / "package"
    mnist_archives(fmt, package)
    (package / archives[1][0]).write_bytes(b"not the published file")
    with Mirror(served) as mirror:
        origins = Origins(_mirrored(archives, (mirror.url,)), copy_from=((str(package), None),))
        manifest = retrieve("FMNIST", tmp_path / "root", origins=origins, log=quiet)
        assert [r.path for r in mirror.requests] == [f"/{archives[1][0]}"]  # only the damaged copy is fetched
    assert manifest["fetched"][0] == str(package / archives[0][0]) and manifest["fetched"][1].startswith("http")
    assert prepare_dataset("FMNIST", data_dir=tmp_path / "root").num_train == 30


def test_debians_fashion_mnist_is_copied_verified_by_its_package(tmp_path, monkeypatch):
    """Debian's .gz files are not byte for byte the published ones (other md5s than torchvision lists), so a copy
    is verified by the md5 dpkg recorded; a copy matching neither is refused (then the mirror, offline here, fails)."""
    from sbadbal.data.layouts import DEBIAN_FASHION_MNIST
    from sbadbal.data.retrieve import package_md5

    if not (Path(DEBIAN_FASHION_MNIST) / "train-images-idx3-ubyte.gz").is_file():
        require_system("Debian's Fashion-MNIST is not installed; install it as root: apt-get install dataset-fashion-mnist")
    (folder, md5sums), = ORIGINS["FMNIST"].copy_from
    manifest = retrieve("FMNIST", tmp_path, log=quiet)
    assert manifest["fetched"] == [f"{DEBIAN_FASHION_MNIST}/{a.name}" for a in ORIGINS["FMNIST"].archives]
    for archive in ORIGINS["FMNIST"].archives:
        assert md5_file(tmp_path / "FashionMNIST" / "raw" / archive.name) == package_md5(md5sums, Path(folder) / archive.name)
    prepared = prepare_dataset("FMNIST", data_dir=tmp_path)
    assert (prepared.num_train, prepared.num_test) == (60_000, 10_000)
    assert all(str(tmp_path) in f for f in prepared.metadata["source_files"])  # the copy, not the package folder

    unverified = Origins(tuple(Archive(a.name, a.md5, ()) for a in ORIGINS["FMNIST"].archives), copy_from=((folder, None),))
    with pytest.raises(RetrievalError, match="md5 .* expected 8d4fb7e6c68d591d4c3dfef9ec88bf0d"):
        retrieve("FMNIST", tmp_path / "other", origins=unverified, log=quiet)


def test_preparation_never_downloads(tmp_path, fmt, monkeypatch):
    """With every network call failing loudly, preparation of files in place works, and of missing files says
    what to place and the command that fetches them; `download` is no option of preparation at all."""
    calls = []

    def no_network(*args, **kwargs):
        calls.append(args)
        raise AssertionError("preparation opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    fmt.write_mnist_like(tmp_path / "MNIST" / "raw", gz=True)
    assert prepare_dataset("MNIST", data_dir=tmp_path).num_train == 30
    for dataset in ("KMNIST", "CIFAR10", "SVHN", "EMNIST"):
        with pytest.raises(DataNotFoundError, match="retrieve --config suite="):
            prepare_dataset(dataset, data_dir=tmp_path / "empty")
    with pytest.raises(ValueError, match="unknown option.*download"):
        prepare_dataset("MNIST", data_dir=tmp_path, download=True)
    assert calls == []


def test_prepare_command_with_download_retrieves_first(tmp_path, fmt, monkeypatch, capsys):
    """`python -m sbadbal prepare NAME --download`: retrieval, then a preparation of local files."""
    from sbadbal.__main__ import main
    from sbadbal.data import retrieve as retrieval

    served = tmp_path / "served"
    archives = mnist_archives(fmt, served)
    with Mirror(served) as mirror:
        monkeypatch.setitem(retrieval.__dict__, "ORIGINS", {**ORIGINS, "KMNIST": Origins(_mirrored(archives, (mirror.url,)))})
        out = tmp_path / "k.pt"
        assert main(["prepare", "KMNIST", "--out", str(out), "--data-dir", str(tmp_path / "root"), "--download"]) == 0
        assert len(mirror.requests) == 4
    assert out.is_file() and torch.load(out, weights_only=True) is not None
    assert (tmp_path / "root" / "KMNIST" / "raw" / archives[0][0]).is_file()
    assert io.StringIO(capsys.readouterr().err).read().count("downloading") == 4
