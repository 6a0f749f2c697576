"""The report fails safe: bad chapters, interrupts, full or read-only disks, locks, stale leftovers.

Uses the fixture notebooks and the tiny synthetic store of ``test_report_runner``. Tests that
start kernels are marked ``slow``. Disk faults use small tmpfs mounts (root, as here and in
CI); they are skipped with the reason when mounting is refused.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import papermill
import pytest
from click.testing import CliRunner
from filelock import FileLock

import lsbanalysis
from lsbanalysis.cli import main
from lsbanalysis.report import ReportError, build_report, runner
from lsbanalysis.store import io
from tests.processes import ctrl_c_enabled
from tests.test_report_runner import CHAPTERS, NOTEBOOKS, make_store, snapshot

REPO = Path(__file__).resolve().parents[1]
SLOW = [("traag", "traag.ipynb", "Traag")]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return make_store(tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="module", autouse=True)
def stable_code(tmp_path_factory):
    """Fingerprint a fixed stand-in package: the real one may be edited while the tests run."""
    package = tmp_path_factory.mktemp("package")
    (package / "module.py").write_text("X = 1\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner, "PACKAGE_DIR", package)
        yield package


@pytest.fixture
def no_kernels(monkeypatch):
    monkeypatch.setattr(
        papermill, "execute_notebook", lambda *a, **k: pytest.fail("a notebook was executed")
    )


def build(out_root: Path, store: Path, jaar=None, **kwargs):
    kwargs.setdefault("chapters", CHAPTERS)
    return build_report(
        "Herenthout", "ISOM", jaar, out_root=out_root, notebooks_dir=NOTEBOOKS, store_dir=store,
        **kwargs,
    )


def cli(*args: str, store: Path | None = None):
    extra = ["--store", str(store)] if store is not None else []
    return CliRunner().invoke(main, [*args, *extra])


def report_args(out_root: Path, *more: str) -> list[str]:
    return ["report", "--gemeente", "Herenthout", "--referentie", "ISOM", "--uit",
            str(out_root), *more]


def leftovers(out_root: Path) -> list[str]:
    return sorted(p.name for p in out_root.iterdir()
                  if "-building-" in p.name or "-previous-" in p.name)


@pytest.fixture
def tmpfs(tmp_path):
    """Mount a small tmpfs: ``tmpfs(size="4m", ro=False)`` → its path; unmounted afterwards."""
    mounted = []

    def mount(size: str = "4m", ro: bool = False) -> Path:
        point = tmp_path / f"tmpfs{len(mounted)}"
        point.mkdir()
        options = f"size={size}" + (",ro" if ro else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'})")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


# -- issue 3: a --jaar report has its own folder, lock and .failed --------------------------


def test_report_slug_names_the_reference_year(store):
    ds = lsbanalysis.load(store)
    target = ds.municipality("Herenthout")
    assert runner.report_slug(target, "ISOM") == "herenthout-isom"
    assert runner.report_slug(target, "ISOM", 2021) == "herenthout-isom-2021"


@pytest.mark.slow
def test_reference_year_report_does_not_replace_the_default_report(store, tmp_path):
    default = build(tmp_path, store)
    before = snapshot(default.folder)
    with FileLock(str(tmp_path / ".herenthout-isom.lock")):  # the default report is busy
        by_year = build(tmp_path, store, jaar=2021, lock_timeout=0)
    assert by_year.folder == tmp_path / "herenthout-isom-2021"
    assert snapshot(default.folder) == before
    assert by_year.manifest["parameters"]["jaar"] == 2021
    # a failing run for a year keeps its failure next to its own report
    with pytest.raises(ReportError, match="herenthout-isom-2021.failed"):
        build(tmp_path, store, jaar=2021, chapters=[("faalt", "faalt.ipynb", "Faalt")])
    assert not (tmp_path / "herenthout-isom.failed").exists()
    assert snapshot(default.folder) == before


# -- issue 4: a chapter whose parameters would not take effect is refused -------------------


def test_chapter_without_parameters_tag_is_refused_before_any_kernel(store, tmp_path, no_kernels):
    out_root = tmp_path / "reports"
    chapters = [*CHAPTERS, ("zonder", "zonder_parameters.ipynb", "Zonder")]
    with pytest.raises(ReportError) as caught:
        build(out_root, store, chapters=chapters)
    message = str(caught.value)
    assert "zonder_parameters.ipynb" in message and "tag 'parameters'" in message
    assert not out_root.exists()


def test_parameters_must_have_been_injected(tmp_path):
    from nbformat.v4 import new_code_cell, new_notebook

    def executed(*tag_lists):
        nb = new_notebook(cells=[new_code_cell("x = 1", metadata={"tags": tags})
                                 for tags in tag_lists])
        path = tmp_path / "x.ipynb"
        nbformat.write(nb, path)
        return nbformat.read(path, as_version=4)  # as papermill returns it, after writing it

    assert runner._parameters_injected(executed(["parameters"], ["injected-parameters"], []))
    assert not runner._parameters_injected(executed([], ["injected-parameters"], []))
    assert not runner._parameters_injected(executed(["parameters"], []))


# -- issue 5: the fingerprint depends on the store's content, not on when it was built ------


@pytest.mark.slow
def test_rebuilt_store_with_the_same_content_does_not_rerun_the_report(store, tmp_path,
                                                                       monkeypatch):
    own = tmp_path / "store"
    shutil.copytree(store, own)
    first = build(tmp_path / "reports", own)
    manifest = io.read_manifest(own)
    manifest["built_at"] = "2031-06-30T06:00:00+00:00"  # what `lsb data build` rewrites
    io.write_manifest(own, manifest)
    with monkeypatch.context() as mp:
        mp.setattr(papermill, "execute_notebook", lambda *a, **k: pytest.fail("ran again"))
        again = build(tmp_path / "reports", own)
    assert again.skipped and again.fingerprint == first.fingerprint


def test_store_content_digests_follow_the_data_not_the_build_time(store, tmp_path):
    own = tmp_path / "store"
    shutil.copytree(store, own)
    first = runner.store_content_digests(own)
    manifest = io.read_manifest(own)
    manifest["built_at"] = "2031-06-30T06:00:00+00:00"
    io.write_manifest(own, manifest)
    assert runner.store_content_digests(own) == first
    manifest["sources"][0]["edition"] = "aanslagjaar 2024"  # the content of the manifest
    io.write_manifest(own, manifest)
    assert runner.store_content_digests(own) != first
    obs = io.read_table(own / io.OBSERVATIONS_FILE)
    obs.loc[0, "value"] += 1
    io.write_table(obs, own / io.OBSERVATIONS_FILE)
    changed = runner.store_content_digests(own)
    assert changed[io.OBSERVATIONS_FILE] != first[io.OBSERVATIONS_FILE]


# -- issue 6: leftovers of killed runs and stale failures are cleaned up --------------------


@pytest.mark.slow
def test_leftovers_and_stale_failure_go_even_when_the_report_is_unchanged(store, tmp_path,
                                                                          monkeypatch):
    published = build(tmp_path, store)
    before = snapshot(published.folder)
    building = tmp_path / ".herenthout-isom-building-k1ll3d"  # a run killed with SIGKILL
    (building / "notebooks").mkdir(parents=True)
    (building / "notebooks" / "figuren.ipynb").write_text("{}")
    failed = tmp_path / "herenthout-isom.failed"  # a failure older than the published report
    failed.mkdir()
    (failed / "fout.txt").write_text("oude fout\n")
    with monkeypatch.context() as mp:
        mp.setattr(papermill, "execute_notebook", lambda *a, **k: pytest.fail("ran again"))
        again = build(tmp_path, store)
    assert again.skipped
    assert not building.exists() and not failed.exists()
    assert snapshot(published.folder) == before


# -- issue 7: Ctrl-C and SIGTERM stop the kernels within seconds ---------------------------


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture(scope="module")
def published(store, tmp_path_factory) -> Path:
    """A folder with a published report (the one a cron run would refresh)."""
    return build(tmp_path_factory.mktemp("published"), store).folder.parent


def _start_slow_report(tmp_path: Path, store: Path, pids: Path) -> subprocess.Popen:
    """`lsb report` in a subprocess, with two slow chapters that record their kernels' PIDs."""
    script = textwrap.dedent(f"""
        import functools
        from lsbanalysis.cli import main
        from lsbanalysis.report import runner
        runner.PACKAGE_DIR = __import__("pathlib").Path({str(tmp_path)!r})
        runner.build_report = functools.partial(
            runner.build_report, notebooks_dir={str(NOTEBOOKS)!r},
            chapters=[("traag", "traag.ipynb", "Traag"), ("traag2", "traag.ipynb", "Traag 2")])
        main()
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *report_args(tmp_path / "reports", "--force"),
         "--store", str(store)],
        env={**os.environ, "LSB_TEST_PIDS": str(pids)}, cwd=REPO, preexec_fn=ctrl_c_enabled,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    if not _wait_for(lambda: len(list(pids.glob("*.pids"))) == 2, 120):
        _end(proc, pids)
        pytest.fail("the chapter kernels did not start within 120 s")
    return proc


def _started(pids: Path) -> list[int]:
    """The kernels and the processes they started."""
    return [int(p) for f in pids.glob("*.pids") for p in f.read_text().split()]


def _end(proc: subprocess.Popen, pids: Path) -> None:
    """Test clean-up: end whatever is still running, by PID."""
    if proc.poll() is None:
        proc.kill()
    for pid in _started(pids):
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    proc.communicate(timeout=10)  # the kernels held the pipes: ended first


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"),
                         [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_interrupt_stops_kernels_and_keeps_the_published_report(store, published, tmp_path,
                                                                signum, code):
    shutil.copytree(published, tmp_path / "reports")
    before = snapshot(tmp_path / "reports" / "herenthout-isom")
    pids = tmp_path / "pids"
    pids.mkdir()
    proc = _start_slow_report(tmp_path, store, pids)
    try:
        started = _started(pids)
        assert all(_alive(p) for p in started)
        sent = time.monotonic()
        os.kill(proc.pid, signum)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
        assert proc.returncode == code, err
        assert took < 10, f"took {took:.1f} s to stop"
        assert "Onderbroken" in err and "Traceback" not in err
        # kernels and the processes they started are gone; nothing half-built is left
        assert _wait_for(lambda: not any(_alive(p) for p in started), 5), started
    finally:
        _end(proc, pids)
    assert not leftovers(tmp_path / "reports")
    assert snapshot(tmp_path / "reports" / "herenthout-isom") == before


@pytest.mark.slow
def test_killed_run_leaves_the_report_intact_and_the_next_run_cleans_up(store, published,
                                                                        tmp_path, monkeypatch):
    shutil.copytree(published, tmp_path / "reports")
    before = snapshot(tmp_path / "reports" / "herenthout-isom")
    pids = tmp_path / "pids"
    pids.mkdir()
    proc = _start_slow_report(tmp_path, store, pids)
    try:
        os.kill(proc.pid, signal.SIGKILL)  # no clean-up possible
        proc.wait(timeout=30)
    finally:
        _end(proc, pids)
    assert leftovers(tmp_path / "reports")  # the killed run's build folder
    assert snapshot(tmp_path / "reports" / "herenthout-isom") == before
    with monkeypatch.context() as mp:  # the next cron run: nothing changed
        mp.setattr(papermill, "execute_notebook", lambda *a, **k: pytest.fail("ran again"))
        again = build(tmp_path / "reports", store)
    assert again.skipped and not leftovers(tmp_path / "reports")
    assert snapshot(tmp_path / "reports" / "herenthout-isom") == before


# -- issue 8: a full disk while a chapter fails keeps the failure record --------------------


@pytest.mark.slow
def test_full_disk_while_a_chapter_fails_keeps_the_explanation(store, tmpfs):
    out_root = tmpfs("4m")
    published = build(out_root, store)
    before = snapshot(published.folder)
    with pytest.raises(ReportError) as caught:
        build(out_root, store, chapters=[*CHAPTERS, ("vol", "vult_schijf.ipynb", "Vol")], jobs=1)
    message = str(caught.value)
    assert "'Vol'" in message and "vult_schijf.ipynb" in message
    failed = out_root / "herenthout-isom.failed"
    record = (failed / "fout.txt").read_text(encoding="utf-8")
    assert "Het analyserapport is niet gemaakt" in record and "Vol" in record
    for kept in failed.glob("*.ipynb"):  # never a 0-byte or truncated notebook
        nbformat.read(kept, as_version=4)
    assert snapshot(published.folder) == before
    assert not leftovers(out_root)


# -- issue 9: environment faults give one sentence, never a traceback ----------------------


@pytest.mark.slow
def test_full_disk_while_writing_the_report(store, tmpfs, monkeypatch):
    out_root = tmpfs("2m")
    published = build(out_root, store)
    before = snapshot(published.folder)
    monkeypatch.setattr(runner, "assemble_html", lambda *a, **k: "x" * 3_000_000)
    monkeypatch.setattr(runner, "build_report", functools.partial(
        build_report, notebooks_dir=NOTEBOOKS, chapters=CHAPTERS))
    result = cli(*report_args(out_root, "--force"), store=store)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "analyserapport.html niet schrijven: de schijf is vol" in result.output
    assert "vorige rapport blijft ongewijzigd" in result.output
    assert snapshot(published.folder) == before
    assert not leftovers(out_root)


def test_read_only_report_folder(store, tmpfs, no_kernels):
    read_only = tmpfs("1m", ro=True)
    result = cli(*report_args(read_only / "reports"), store=store)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert str(read_only / "reports") in result.output and "alleen-lezen" in result.output


@pytest.mark.parametrize(
    ("where", "needle"),
    [
        (lambda tmp: tmp / "bestaat" / "niet" / "reports", "bestaat niet"),
        (lambda tmp: tmp / ("x" * 300), "te lang"),
        (lambda tmp: tmp / "een-bestand" / "reports", "een bestand, geen map"),
    ],
    ids=["missing-parent", "name-too-long", "below-a-file"],
)
def test_unusable_report_folder_is_one_sentence(store, tmp_path, no_kernels, where, needle):
    (tmp_path / "een-bestand").write_text("geen map")
    result = cli(*report_args(where(tmp_path)), store=store)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and needle in result.output
    assert result.output.startswith("Fout: ") and len(result.output) < 600


def test_report_folder_that_is_a_file(store, tmp_path, no_kernels):
    (tmp_path / "een-bestand").write_text("geen map")
    with pytest.raises(ReportError, match="er bestaat al een bestand met die naam"):
        build(tmp_path / "een-bestand", store)
    assert (tmp_path / "een-bestand").read_text() == "geen map"
    # the command line refuses it before the library is called
    result = cli(*report_args(tmp_path / "een-bestand"), store=store)
    assert result.exit_code == 2 and "is a file" in result.output


def test_environment_fault_and_internal_error_in_the_cli(monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device", "/srv/lsb/reports/x/analyserapport.html")

    monkeypatch.setattr(runner, "build_report", disk_full)
    result = cli("report", "--gemeente", "Herenthout", "--referentie", "ISOM")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "Kan /srv/lsb/reports/x/analyserapport.html niet schrijven: de schijf is vol" in (
        result.output)

    def bug(*args, **kwargs):
        raise TypeError("unsupported operand")

    monkeypatch.setattr(runner, "build_report", bug)
    result = cli("report", "--gemeente", "Herenthout", "--referentie", "ISOM")
    assert result.exit_code == 70 and "Traceback" not in result.output
    assert "interne fout" in result.output and "lsb --debug" in result.output


def test_debug_option_shows_the_traceback(store, tmp_path, no_kernels):
    plain = cli(*report_args(tmp_path, "--gemeente", "Herentout"), store=store)
    debug = CliRunner().invoke(main, ["--debug", *report_args(tmp_path, "--gemeente",
                                                              "Herentout"), "--store", str(store)])
    assert plain.exit_code == debug.exit_code == 1
    assert "Traceback" not in plain.output and "Onbekende gemeente 'Herentout'" in plain.output
    assert "Traceback (most recent call last)" in debug.output
    assert "Onbekende gemeente 'Herentout'" in debug.output


# -- issue 13: a waiting run says so; the wait is an option --------------------------------


def test_waiting_for_the_lock_is_announced_and_bounded(store, tmp_path, no_kernels):
    with FileLock(str(tmp_path / ".herenthout-isom.lock")):
        start = time.monotonic()
        result = cli(*report_args(tmp_path, "--wacht", "0.5"), store=store)
        took = time.monotonic() - start
    assert result.exit_code == 1 and took < 30
    assert "Er loopt al een run voor" in result.output and "wachten tot die klaar is" in (
        result.output)
    assert "na 0.5 s wachten is het slot nog niet vrij" in result.output

