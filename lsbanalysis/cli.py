"""The ``lsb`` command line."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from lsbanalysis.errors import LsbError
from lsbanalysis.paths import RAW_DIR, default_mirror, processed_dir


class _Group(click.Group):
    """Turns library errors into a one-line message and exit code 1, without a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LsbError as exc:
            click.secho(f"Fout: {exc}", fg="red", err=True)
            sys.exit(1)


@click.group(cls=_Group)
@click.version_option(package_name="lsbanalysis")
def main() -> None:
    """lsbanalysis: omgevingsanalyse voor het lokaal sociaal beleidsplan."""


@main.group(cls=_Group)
def data() -> None:
    """Raw official files and the processed store."""


@data.command("fetch")
@click.option("--raw", "raw_dir", type=click.Path(path_type=Path), default=RAW_DIR,
              show_default=True, help="Folder to place the raw files in.")
@click.option("--mirror", type=click.Path(path_type=Path, file_okay=False, exists=True),
              default=None, help="Local mirror of the official downloads (e.g. ../shared/data).")
def fetch_cmd(raw_dir: Path, mirror: Path | None) -> None:
    """Place the raw files in data/raw/, verifying each sha256."""
    from lsbanalysis.store.fetch import fetch_all

    counts = fetch_all(raw_dir, mirror)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    click.echo(f"{sum(counts.values())} bestanden in {raw_dir} ({summary}); checksums in orde.")


@data.command("build")
@click.option("--raw", "raw_dir", type=click.Path(path_type=Path), default=None,
              help="Folder with the raw files [default: data/raw, else the local mirror].")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Where to write the store [default: data/processed].")
@click.option("--jobs", type=click.IntRange(1, 8), default=None, help="Worker processes.")
def build_cmd(raw_dir: Path | None, out_dir: Path | None, jobs: int | None) -> None:
    """Rebuild the processed store from the raw files."""
    from lsbanalysis.store.build import build_store

    if raw_dir is None:
        raw_dir = RAW_DIR if any(RAW_DIR.glob("*/*")) else default_mirror()
        if raw_dir is None:
            raise click.UsageError("no raw files: run `lsb data fetch` or pass --raw DIR")
    out_dir = out_dir or processed_dir()
    start = time.perf_counter()
    manifest = build_store(raw_dir, out_dir, jobs=jobs)
    rows = sum(s.get("rows", 0) for s in manifest["sources"])
    changed = [f["name"] for s in manifest["sources"] for f in s["files"]
               if not f["matches_manifest"]]
    if changed:
        click.secho(
            f"Let op: {', '.join(changed)} verschil(t)(len) van de sha256 in sources.toml "
            "(een nieuwe editie?). Controleer de cijfers en werk de manifest bij.",
            fg="yellow", err=True,
        )
    click.echo(
        f"Store gebouwd in {out_dir} uit {raw_dir}: {rows:,} observaties, "
        f"{len(manifest['sources'])} bronnen, {time.perf_counter() - start:.1f} s."
    )


@data.command("info")
def info_cmd() -> None:
    """Show what the processed store holds and where it comes from."""
    from lsbanalysis.store import io

    manifest = io.read_manifest(processed_dir())
    click.echo(f"Store {processed_dir()} (gebouwd {manifest['built_at']})")
    for s in manifest["sources"]:
        span = f"{s.get('first_period', '')}–{s.get('last_period', '')}" if "rows" in s else ""
        rows = f"{s['rows']:>9,} rijen" if "rows" in s else " " * 15
        click.echo(f"  {s['id']:<36} {rows} {span:<16} {s['edition']}")


def _comparison_options(func):
    func = click.option("--jaar", type=int, default=None,
                        help="Jaar (standaard: het laatste jaar van elke indicator).")(func)
    func = click.option("--referentie", required=True,
                        help="ISOM, arrondissement, buren, of een lijst 'Gemeente1,Gemeente2,…'.")(
        func)
    func = click.option("--gemeente", required=True, help="Naam of NIS-code.")(func)
    func = click.option("--indicator", "indicators", multiple=True,
                        help="Alleen deze indicator(en) (herhaalbaar).")(func)
    return func


def _compare(gemeente: str, referentie: str, jaar: int | None, indicators: tuple[str, ...]):
    import lsbanalysis

    ds = lsbanalysis.load()
    chosen = list(indicators) or None
    return ds.compare(gemeente, reference=referentie, year=jaar, indicators=chosen)


@main.command("compare")
@_comparison_options
@click.option("--format", "fmt_", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
def compare_cmd(gemeente, referentie, jaar, indicators, fmt_) -> None:
    """Vergelijk een gemeente met haar referentiegroep en de benchmarks."""
    c = _compare(gemeente, referentie, jaar, indicators)
    if fmt_ == "csv":
        click.echo(c.to_csv(), nl=False)
    elif fmt_ == "json":
        import json

        click.echo(json.dumps(c.to_json(), ensure_ascii=False, indent=2))
    else:
        from lsbanalysis.report.text import summary_text

        click.echo(summary_text(c))
    for note in c.notes:
        click.echo(f"Opmerking: {note}", err=True)


@main.command("vaststellingen")
@_comparison_options
def findings_cmd(gemeente, referentie, jaar, indicators) -> None:
    """Druk de vaststellingen af, per thema, de duidelijkste verschillen eerst."""
    from lsbanalysis.report.text import findings_text

    c = _compare(gemeente, referentie, jaar, indicators)
    click.echo(findings_text(c))


@main.command("report")
@click.option("--gemeente", required=True, help="Naam of NIS-code van de gemeente.")
@click.option("--referentie", required=True,
              help="Referentiegroep: ISOM, arrondissement, buren, of een lijst gemeenten "
                   "(namen of NIS-codes, met komma's).")
@click.option("--jaar", type=int, default=None,
              help="Referentiejaar [standaard: per indicator het meest recente jaar].")
@click.option("--uit", "out_root", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Map voor de rapporten [standaard: reports/].")
@click.option("--force", is_flag=True, help="Opnieuw maken, ook als niets veranderde.")
@click.option("--jobs", type=click.IntRange(1, 8), default=2, show_default=True,
              help="Hoofdstukken die tegelijk lopen.")
@click.option("--store", "store_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Verwerkte store [standaard: data/processed].")
@click.option("--pdf", "pdf", is_flag=True,
              help="Ook analyserapport.pdf maken (A4, met headless Chromium).")
def report_cmd(gemeente: str, referentie: str, jaar: int | None, out_root: Path | None,
               force: bool, jobs: int, store_dir: Path | None, pdf: bool) -> None:
    """Maak het analyserapport (één HTML-bestand, met --pdf ook een PDF) voor een gemeente en
    referentiegroep."""
    from datetime import datetime

    from lsbanalysis.paths import REPORTS_DIR
    from lsbanalysis.report import runner
    from lsbanalysis.report.assemble import dutch_date

    result = runner.build_report(
        gemeente, referentie, jaar, out_root=out_root or REPORTS_DIR, force=force, jobs=jobs,
        store_dir=store_dir, progress=lambda line: click.echo(f"  {line}", err=True), pdf=pdf,
    )
    if result.skipped:
        try:
            since = dutch_date(datetime.fromisoformat(result.finished_at), with_time=True)
        except (TypeError, ValueError):
            since = result.finished_at or "de vorige run"
        click.echo(f"Ongewijzigd sinds {since}; niets te doen (gebruik --force).")
        return
    click.echo(f"Analyserapport: {_shown(result.html)}")
    if result.pdf is not None:
        click.echo(f"PDF: {_shown(result.pdf)}")
    elif result.pdf_note:
        click.secho(result.pdf_note, fg="yellow", err=True)


def _shown(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


if __name__ == "__main__":
    main()
