"""zoo.files: bounded reads of regular files only, claimed and owned directories,
publishing without replacing."""

import json
import os
import threading

import pytest

from zoo import files


def test_read_regular_file_reads_a_small_file(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"hello")
    assert files.read_regular_file(path, 5) == b"hello"


def test_read_regular_file_refuses_a_file_over_the_limit(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 11)
    with pytest.raises(ValueError, match=r"11 bytes, over the limit of 10 bytes"):
        files.read_regular_file(path, 10)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_read_regular_file_refuses_a_fifo_without_blocking(tmp_path):
    fifo = tmp_path / "model.keras"
    os.mkfifo(fifo)
    with pytest.raises(files.NotARegularFileError, match=r"FIFO"):
        files.read_regular_file(fifo, 100)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_read_regular_file_refuses_a_symlink_to_a_device(tmp_path):
    link = tmp_path / "model.keras"
    link.symlink_to("/dev/zero")
    with pytest.raises(files.NotARegularFileError, match=r"character device"):
        files.read_regular_file(link, 100)


def test_read_regular_file_refuses_a_directory(tmp_path):
    folder = tmp_path / "x.keras"
    folder.mkdir()
    with pytest.raises(files.NotARegularFileError, match=r"is a directory"):
        files.read_regular_file(folder, 100)


def test_read_regular_file_escapes_the_name_in_its_message(tmp_path):
    folder = tmp_path / "a\x1b[2Jb"
    folder.mkdir()
    with pytest.raises(files.NotARegularFileError) as caught:
        files.read_regular_file(folder, 100)
    assert "\x1b" not in str(caught.value) and "\\x1b[2J" in str(caught.value)


def test_claim_directory_creates_and_marks_it(tmp_path):
    run = files.claim_directory(tmp_path / "a" / "run", "zoo run", details={"task": "t"})
    record = files.owner(run)
    assert record["kind"] == "zoo run" and record["task"] == "t" and record["pid"] == os.getpid()
    assert sorted(os.listdir(run)) == [files.MARKER]


def test_claim_directory_takes_an_empty_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    assert files.owner(files.claim_directory(tmp_path / "empty", "zoo run"))["kind"] == "zoo run"


def test_claim_directory_refuses_a_non_empty_directory_and_leaves_it_alone(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(FileExistsError, match=r"not empty.*Received: '.*mine'"):
        files.claim_directory(tmp_path / "mine", "zoo run")
    assert os.listdir(tmp_path / "mine") == ["notes.txt"]


def test_claim_directory_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(FileExistsError, match=r"not a directory"):
        files.claim_directory(tmp_path / "f", "zoo run")


def test_claim_directory_twice_fails_the_second_time(tmp_path):
    files.claim_directory(tmp_path / "run", "zoo run")
    with pytest.raises(FileExistsError, match=r"already claimed"):
        files.claim_directory(tmp_path / "run", "zoo run")


def test_claim_directory_race_has_exactly_one_winner(tmp_path):
    for attempt in range(20):
        target = tmp_path / f"race{attempt}"
        barrier = threading.Barrier(4)
        outcomes = []

        def claim():
            barrier.wait()
            try:
                files.claim_directory(target, "zoo run")
                outcomes.append("won")
            except FileExistsError:
                outcomes.append("lost")

        threads = [threading.Thread(target=claim) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["lost", "lost", "lost", "won"], attempt
        assert os.listdir(target) == [files.MARKER]


def test_remove_owned_directory_deletes_only_what_the_zoo_claimed(tmp_path):
    run = files.claim_directory(tmp_path / "run", "zoo tune search")
    (run / "trial.json").write_text("{}")
    files.remove_owned_directory(run, "zoo tune search")
    assert not run.exists()


def test_remove_owned_directory_refuses_a_users_folder(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    with pytest.raises(ValueError, match=r"Refusing to delete .*mine.*not created by zoo tune"):
        files.remove_owned_directory(mine, "zoo tune search")
    assert (mine / "thesis.tex").read_text() == "years of work"


def test_remove_owned_directory_refuses_another_kind_and_forged_markers(tmp_path):
    run = files.claim_directory(tmp_path / "run", "zoo run")
    with pytest.raises(ValueError, match=r"Refusing to delete"):
        files.remove_owned_directory(run, "zoo tune search")
    forged = tmp_path / "forged"
    forged.mkdir()
    (forged / files.MARKER).write_text("not json")
    with pytest.raises(ValueError, match=r"Refusing to delete"):
        files.remove_owned_directory(forged, "zoo run")
    assert run.exists() and forged.exists()


def test_remove_owned_directory_refuses_a_symlink_to_an_owned_directory(tmp_path):
    run = files.claim_directory(tmp_path / "run", "zoo run")
    link = tmp_path / "link"
    link.symlink_to(run)
    with pytest.raises(ValueError, match=r"Refusing to delete"):
        files.remove_owned_directory(link, "zoo run")
    assert run.exists()


def test_check_new_file_fails_early(tmp_path):
    (tmp_path / "old.json").write_text("{}")
    with pytest.raises(NotADirectoryError, match=r"folder '.*old.json' is a file"):
        files.check_new_file(tmp_path / "old.json" / "inner.json")
    with pytest.raises(FileExistsError, match=r"already exists.*Received: '.*old.json'"):
        files.check_new_file(tmp_path / "old.json")
    with pytest.raises(IsADirectoryError, match=r"is a directory"):
        files.check_new_file(tmp_path)
    assert files.check_new_file(tmp_path / "old.json", overwrite=True).name == "old.json"
    assert files.check_new_file(tmp_path / "new" / "deeper.json").name == "deeper.json"


def test_check_new_file_refuses_a_read_only_folder(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    # chmod does not stop root (CI may run as root): ask os.access what it would say.
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if os.fspath(path) == str(folder)
                        else real_access(path, mode))
    with pytest.raises(PermissionError, match=r"folder '.*ro' is not writable"):
        files.check_new_file(folder / "out.json")
    with pytest.raises(PermissionError, match=r"not writable"):
        files.check_new_file(folder / "deeper" / "out.json")


def test_write_new_text_never_replaces(tmp_path):
    path = tmp_path / "rows.json"
    files.write_new_text(path, json.dumps([1]))
    with pytest.raises(FileExistsError, match=r"exists; nothing was replaced"):
        files.write_new_text(path, json.dumps([2]))
    assert json.loads(path.read_text()) == [1]
    files.write_new_text(path, json.dumps([3]), overwrite=True)
    assert json.loads(path.read_text()) == [3]
    assert sorted(os.listdir(tmp_path)) == ["rows.json"]  # no temporaries left
