"""ZipFileStaging: members in, members out (concurrent writers take turns), bad URLs."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import plait
from plait import Config, File, ThreadPoolExecutor, python_app
from plait.data_provider.file_noop import NoOpFileStaging
from plait.data_provider.zip import ZipAuthorityError, ZipFileStaging
from plait.errors import DependencyError


@python_app
def copy_upper(inputs: list[File] = (), outputs: list[File] = ()) -> None:  # type: ignore[assignment]
    with open(inputs[0]) as src, open(outputs[0], "w") as dst:
        dst.write(src.read().upper())


def load(tmp_path: Path, storage: object = None) -> plait.DataFlowKernel:
    plait.clear()
    ex = ThreadPoolExecutor(max_threads=4, working_dir=str(tmp_path / "work"),
                            storage_access=storage)  # type: ignore[arg-type]
    return plait.load(Config(executors=[ex], run_dir=str(tmp_path / "run"), strategy="none"))


def test_members_in_and_out(tmp_path: Path) -> None:
    source = tmp_path / "in.zip"
    with zipfile.ZipFile(source, "w") as z:
        for i in range(6):
            z.writestr(f"d/m{i}.txt", f"member {i}")
    target = tmp_path / "out.zip"
    with load(tmp_path):  # default_staging includes ZipFileStaging
        outs = [copy_upper(inputs=[File(f"zip:{source}/d/m{i}.txt")],
                           outputs=[File(f"zip:{target}/r/m{i}.txt")]).outputs[0]
                for i in range(6)]
        for o in outs:
            o.result(timeout=60)
    with zipfile.ZipFile(target) as z:
        assert sorted(z.namelist()) == [f"r/m{i}.txt" for i in range(6)]
        assert z.read("r/m3.txt") == b"MEMBER 3"


def test_a_missing_member_fails_the_staging_task(tmp_path: Path) -> None:
    source = tmp_path / "in.zip"
    with zipfile.ZipFile(source, "w") as z:
        z.writestr("a.txt", "a")
    with load(tmp_path, [NoOpFileStaging(), ZipFileStaging()]):
        fut = copy_upper(inputs=[File(f"zip:{source}/b.txt")],
                         outputs=[File(str(tmp_path / "o"))])
        with pytest.raises(DependencyError, match=r"has no member b\.txt"):
            fut.result(timeout=60)


def test_zip_with_an_authority_fails_at_the_call(tmp_path: Path) -> None:
    of = File(f"zip://someauthority/{tmp_path / 'c.zip'}/data.txt")
    with load(tmp_path), pytest.raises(ZipAuthorityError):
        copy_upper(inputs=[], outputs=[of])
