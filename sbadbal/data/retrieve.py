"""Retrieval: the raw files of a source put in place under the data root, before and apart from preparation.

The workflow runs it in local rules (rules/retrieve.smk), so on a cluster it runs where Snakemake runs, the login
node, and compute jobs only read local files. Each source's origins are records below: the archives it is
published as (with the md5 the publisher, as listed by torchvision, gives for each), their mirrors in order, and
the members to take out of an archive; Debian's Fashion-MNIST is copied from its package folder where present;
AG News comes from HF `datasets` at a pinned revision. Retrieval is
- idempotent: files already in place (in any layout of sbadbal/data/layouts.py) are left alone, and a source
  whose destination files exist is not fetched again;
- atomic: every file is written to a temporary name in its folder and renamed when complete and verified, so an
  interrupted or corrupt download leaves nothing behind that a reader could take for the file;
- checked: a download whose md5 differs from the published one is refused, and the next mirror is tried.
Torch-free (urllib, tarfile, zipfile); HF `datasets` is imported for AG News only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .layouts import DEBIAN_FASHION_MNIST, RAW_LAYOUTS

DOWNLOAD_TIMEOUT_S = 120
USER_AGENT = "sbadbal-retrieve"  # some mirrors refuse urllib's default agent
Log = Callable[[str], None]


class RetrievalError(FileNotFoundError):
    """A source's files could not be put in place (every origin failed); the message says what each one did."""


@dataclass(frozen=True)
class Archive:
    """One published file: its name, md5 (None where the publisher gives none), mirrors in order, and the members
    to take out of it as (member path, file name in the destination); no members: the file itself is kept."""

    name: str
    md5: str | None
    urls: tuple[str, ...]
    members: tuple[tuple[str, str], ...] = ()

    def outputs(self) -> tuple[str, ...]:
        """The file names this archive leaves in the destination folder."""
        return tuple(target for _, target in self.members) if self.members else (self.name,)


@dataclass(frozen=True)
class Origins:
    """Where a raw source comes from: archives (each from a local folder holding a verified copy, else its
    mirrors), or an HF dataset at a pinned revision."""

    archives: tuple[Archive, ...] = ()
    # (folder, its package's md5sums file or None): verified copies of the archives there are taken before any
    # download. A copy is verified by the published md5, or by the md5 its package manager recorded (Debian
    # Fashion-MNIST's .gz files differ in their bytes from the published ones: other md5s, though the same names).
    copy_from: tuple[tuple[str, str | None], ...] = ()
    hf: tuple[tuple[str, str], ...] = ()  # (dataset id, revision), tried in order


def _mirrored(names_md5: tuple[tuple[str, str], ...], mirrors: tuple[str, ...]) -> tuple[Archive, ...]:
    return tuple(Archive(name, md5, tuple(f"{mirror}{name}" for mirror in mirrors)) for name, md5 in names_md5)


_MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
_EMNIST_MEMBERS = tuple((f"gzip/{name}.gz", f"{name}.gz") for name in RAW_LAYOUTS["EMNIST"].files)
_CIFAR10_MEMBERS = tuple((f"cifar-10-batches-py/{name}", name) for name in RAW_LAYOUTS["CIFAR10"].files)
_CIFAR100_MEMBERS = tuple((f"cifar-100-python/{name}", name) for name in RAW_LAYOUTS["CIFAR100"].files)
# HF dataset ids tried in order, each pinned to one commit so that a download next year reads the same rows
# ("ag_news" is the old name of the same repository, hence the same commit).
AGNEWS_HF_REVISION = "eb185aade064a813bc0b7f42de02595523103ca4"

# Raw source name (sbadbal/data/layouts.py) -> its origins. URLs and md5s are those torchvision's dataset classes
# list (torchvision 0.2x), so a folder torchvision filled holds the same bytes.
ORIGINS: Mapping[str, Origins] = MappingProxyType({
    "MNIST": Origins(_mirrored((
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ), _MNIST_MIRRORS)),
    "FMNIST": Origins(_mirrored((
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ), ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)),
        copy_from=((DEBIAN_FASHION_MNIST, "/var/lib/dpkg/info/dataset-fashion-mnist.md5sums"),)),
    "KMNIST": Origins(_mirrored((
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ), ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",))),
    # One 536 MB zip of every EMNIST split; only the balanced split's four files are kept.
    "EMNIST": Origins((Archive("gzip.zip", "58c8d27c78d21e728a6bc7b3cc06412e",
                               ("https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",), _EMNIST_MEMBERS),)),
    "CIFAR10": Origins((Archive("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a",
                                ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",), _CIFAR10_MEMBERS),)),
    "CIFAR100": Origins((Archive("cifar-100-python.tar.gz", "eb9058c3a382ffc7106e4002c42a8d85",
                                 ("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",), _CIFAR100_MEMBERS),)),
    "SVHN": Origins(_mirrored((
        ("train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373"),
        ("test_32x32.mat", "eb5a983be6a315427106f1b164d9cef3"),
    ), ("http://ufldl.stanford.edu/housenumbers/",))),
    "AGNEWS": Origins(hf=(("fancyzhx/ag_news", AGNEWS_HF_REVISION), ("ag_news", AGNEWS_HF_REVISION))),
})


# ---------------------------------------------------------------- atomic files


@contextmanager
def _temporary_beside(target: Path):
    """A temporary file in `target`'s folder (so the final rename stays on one file system), removed unless the
    caller renamed it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def md5_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, target: Path, timeout_s: float = DOWNLOAD_TIMEOUT_S) -> None:
    """`url` into `target` (a temporary file), streamed."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout_s) as response, open(target, "wb") as out:
        shutil.copyfileobj(response, out, 1 << 20)


def _verified(path: Path, archive: Archive, also: str | None = None) -> str | None:
    """Why `path` is not the published file (md5 mismatch), or None; `also`: another md5 to accept."""
    if archive.md5 is None:
        return None
    found = md5_file(path)
    accepted = [archive.md5] + ([also] if also else [])
    return None if found in accepted else f"md5 {found}, expected {' or '.join(accepted)}"


def package_md5(md5sums: str | None, path: Path) -> str | None:
    """The md5 a package manager recorded for `path` (dpkg's `<md5>  <path without the leading />` lines)."""
    if md5sums is None or not Path(md5sums).is_file():
        return None
    relative = str(path).lstrip("/")
    for line in Path(md5sums).read_text().splitlines():
        digest, _, name = line.partition("  ")
        if name.strip() == relative:
            return digest
    return None


def _fetch(archive: Archive, origins: Origins, tmp: Path, log: Log) -> str:
    """The archive into `tmp`, verified: from a local copy, else from its mirrors in order; where it came from."""
    failures = []
    for folder, md5sums in origins.copy_from:
        copy = Path(folder) / archive.name
        if copy.is_file():
            shutil.copyfile(copy, tmp)
            why = _verified(tmp, archive, also=package_md5(md5sums, copy))
            if why is None:
                log(f"copied {copy}")
                return str(copy)
            failures.append(f"{copy}: {why}")
    for url in archive.urls:
        log(f"downloading {url}")
        try:
            download(url, tmp)
        except Exception as error:  # urllib's URLError/HTTPError, timeouts, resets
            failures.append(f"{url}: {type(error).__name__}: {error}")
            continue
        why = _verified(tmp, archive)
        if why is None:
            return url
        failures.append(f"{url}: {why}")
    raise RetrievalError(f"{archive.name}: every origin failed: " + "; ".join(failures or ["no origin listed"]))


def _install(archive: Archive, fetched: Path, destination: Path) -> None:
    """The fetched archive's outputs into `destination`, each renamed into place when complete. Only the listed
    members are read, so nothing inside an archive can write outside the destination."""
    if not archive.members:
        os.replace(fetched, destination / archive.name)
        return
    with _members(fetched, archive.name) as open_member:
        for member, target in archive.members:
            with _temporary_beside(destination / target) as tmp:
                try:
                    with open_member(member) as source, open(tmp, "wb") as out:
                        shutil.copyfileobj(source, out, 1 << 20)
                except KeyError:
                    raise RetrievalError(f"{archive.name}: no member {member}") from None
                os.replace(tmp, destination / target)


@contextmanager
def _members(path: Path, name: str):
    """member path -> a readable file of that member, while the archive is open."""
    if name.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            yield archive.open
    elif name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(path) as archive:

            def extract(member: str):
                source = archive.extractfile(member)
                if source is None:
                    raise RetrievalError(f"{name}: {member} is not a regular file")
                return source

            yield extract
    else:
        raise RetrievalError(f"{name}: unknown archive type")


# ---------------------------------------------------------------- sources


def retrieve(name: str, root: str | os.PathLike, *, origins: Origins | None = None, log: Log = print) -> dict[str, Any]:
    """Put raw source `name`'s files in place under `root` (nothing is fetched when they already are, in any
    accepted layout); what was found and fetched, as plain values. RetrievalError when an origin cannot serve."""
    root = Path(root)
    layout = RAW_LAYOUTS[name]
    origins = origins or ORIGINS[name]
    found = layout.find(root, system=False)
    fetched: list[str] = []
    if found is None:
        destination = layout.destination(root)
        if origins.hf:
            fetched += _retrieve_hf(origins.hf, root, destination, log)
        for archive in origins.archives:
            if all((destination / output).is_file() for output in archive.outputs()):
                continue  # an earlier, interrupted retrieval finished this archive
            with _temporary_beside(destination / archive.name) as tmp:
                fetched.append(_fetch(archive, origins, tmp, log))
                _install(archive, tmp, destination)
        found = layout.find(root, system=False)
        if found is None:
            raise RetrievalError(f"{name}: retrieved into {destination}, but {layout.describe_files()} are not all "
                                 "there (the archives' members do not match the layout)")
    log(f"{name}: " + ("fetched " + ", ".join(fetched) if fetched else f"already in place under {root}"))
    return {"source": name, "root": str(root), "files": {key: str(path) for key, path in found.items()},
            "fetched": fetched}


def _retrieve_hf(datasets_ids: tuple[tuple[str, str], ...], root: Path, destination: Path, log: Log) -> list[str]:
    """AG News's splits from HF `datasets` at the pinned revision (cached under root/hf), written as parquet
    (`text` = title + ' ' + description, 0-based `label`) where the loader reads them."""
    import datasets

    errors = []
    for dataset_id, revision in datasets_ids:
        log(f"loading {dataset_id}@{revision} from HF datasets")
        try:
            loaded = datasets.load_dataset(dataset_id, revision=revision, cache_dir=str(root / "hf"))
        except Exception as error:  # offline, renamed repositories, hub errors
            errors.append(f"{dataset_id}: {type(error).__name__}: {error}")
            continue
        for split in ("train", "test"):
            target = destination / f"{split}.parquet"
            with _temporary_beside(target) as tmp:
                loaded[split].select_columns(["text", "label"]).to_parquet(str(tmp))
                os.replace(tmp, target)
        return [f"hf:{dataset_id}@{revision}"]
    raise RetrievalError("AG News from HF datasets failed: " + "; ".join(errors))
