"""The ``lsb`` command line."""

from __future__ import annotations

import signal
import sys
import threading
import time
import traceback
from pathlib import Path

import click

from lsbanalysis.errors import Interrupted, LsbError, os_error_message
from lsbanalysis.paths import RAW_DIR, default_mirror, processed_dir

#: Exit codes: 1 for a user error or an environment fault, 128 + signal for an interrupt.
EXIT_ERROR = 1
EXIT_INTERNAL = 70  # EX_SOFTWARE: a defect of lsbanalysis itself


def _raise_interrupted(signum: int, _frame) -> None:
    raise Interrupted(signum)


class _Group(click.Group):
    """The one place where errors become messages: one Dutch sentence, exit ≠ 0, no traceback.

    Library errors (LsbError) and environment faults (OSError: full disk, read-only file
    system, missing folder, name too long, …) exit with 1; Ctrl-C with 130, SIGHUP with 129 and
    SIGTERM with 143 (the interrupted command has already cleaned up). ``lsb --debug …`` adds
    the traceback.
    """

    def invoke(self, ctx: click.Context):
        root = ctx.find_root()
        previous = {}
        if root is ctx and threading.current_thread() is threading.main_thread():
            # SIGTERM (cron, systemd, kill) and SIGHUP (a closed terminal) take the same
            # clean-up path as Ctrl-C.
            previous = {sig: signal.signal(sig, _raise_interrupted)
                        for sig in (signal.SIGTERM, signal.SIGHUP)}
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt as exc:
            signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
            self._fail(root, "Onderbroken; wat al gepubliceerd was, blijft ongewijzigd.",
                       128 + int(signum))
        except LsbError as exc:
            self._fail(root, str(exc), EXIT_ERROR)
        except OSError as exc:
            self._fail(root, os_error_message(exc), EXIT_ERROR)
        except Exception as exc:
            self._fail(
                root,
                f"interne fout in lsbanalysis ({type(exc).__name__}: {str(exc)[:200]}). "
                "Herhaal het commando met `lsb --debug …` voor de details en meld het.",
                EXIT_INTERNAL,
            )
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @staticmethod
    def _fail(root: click.Context, message: str, code: int) -> None:
        if root.params.get("debug"):
            traceback.print_exc()
        click.secho(f"Fout: {message}", fg="red", err=True)
        sys.exit(code)


@click.group(cls=_Group)
@click.version_option(package_name="lsbanalysis")
@click.option("--debug", is_flag=True,
              help="Toon bij een fout ook de Python-traceback (voor ontwikkelaars).")
def main(debug: bool) -> None:
    """lsbanalysis: omgevingsanalyse voor het lokaal sociaal beleidsplan."""


@main.group(cls=_Group)
def data() -> None:
    """Raw official files and the processed store."""


@data.command("fetch")
@click.option("--raw", "raw_dir", type=click.Path(path_type=Path), default=RAW_DIR,
              show_default=True, help="Folder to place the raw files in.")
@click.option("--mirror", type=click.Path(path_type=Path, file_okay=False, exists=True),
              default=None, help="Local mirror of the official downloads (e.g. ../shared/data).")
@click.option("--timeout", type=click.FloatRange(1, None), default=300, show_default=True,
              help="Seconds for the whole fetch; a host that stops answering fails at once.")
@click.option("--jobs", type=click.IntRange(1, 16), default=4, show_default=True,
              help="Downloads at the same time.")
def fetch_cmd(raw_dir: Path, mirror: Path | None, timeout: float, jobs: int) -> None:
    """Place the raw files in data/raw/, verifying each sha256."""
    from lsbanalysis.store.fetch import fetch_all

    counts = fetch_all(raw_dir, mirror, timeout=timeout, jobs=jobs)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    click.echo(f"{sum(counts.values())} bestanden in {raw_dir} ({summary}); checksums in orde.")


@data.command("build")
@click.option("--raw", "raw_dir", type=click.Path(path_type=Path), default=None,
              help="Folder with the raw files [default: data/raw, else the local mirror].")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Where to write the store [default: data/processed].")
@click.option("--jobs", type=click.IntRange(1, 8), default=None, help="Worker processes.")
@click.option("--accept-new-edition", "accept", is_flag=True,
              help="Accept raw files whose sha256 differs from sources.toml (a new edition), "
                   "if they still are the declared edition (year, language, table); their "
                   "checksums are recorded in the store's manifest.json.")
def build_cmd(raw_dir: Path | None, out_dir: Path | None, jobs: int | None,
              accept: bool) -> None:
    """Rebuild the processed store from the raw files."""
    from lsbanalysis.store.build import build_store

    if raw_dir is None:
        raw_dir = RAW_DIR if any(RAW_DIR.glob("*/*")) else default_mirror()
        if raw_dir is None:
            raise click.UsageError("no raw files: run `lsb data fetch` or pass --raw DIR")
    out_dir = out_dir or processed_dir()
    start = time.perf_counter()
    manifest = build_store(raw_dir, out_dir, jobs=jobs, accept_new_editions=accept,
                           say=lambda line: click.echo(f"Let op: {line}", err=True))
    rows = sum(s.get("rows", 0) for s in manifest["sources"])
    for s in manifest["sources"]:
        for f in s["files"]:
            if f.get("accepted_at"):
                click.secho(
                    f"Let op: nieuwe editie van {f['path']} aanvaard op {f['accepted_at']} "
                    f"(sha256 {f['sha256'][:12]}…, sources.toml: {f['manifest_sha256'][:12]}…); "
                    "vastgelegd in manifest.json. Werk sources.toml bij.",
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
                        help="Referentiejaar: per indicator de laatste waarde tot en met dit jaar "
                             "(standaard: het laatste jaar van elke indicator).")(func)
    func = click.option("--referentie", required=True,
                        help="ISOM, arrondissement, buren, gelijkaardig, of een lijst "
                             "'Gemeente1,Gemeente2,…'.")(func)
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
@click.option("--alle", is_flag=True,
              help="Alle vaststellingen per thema, niet alleen de kernvaststellingen.")
def findings_cmd(gemeente, referentie, jaar, indicators, alle) -> None:
    """Druk de kernvaststellingen af (per werkgroep), of met --alle alle vaststellingen."""
    from lsbanalysis.report.text import findings_text, key_findings_text

    c = _compare(gemeente, referentie, jaar, indicators)
    click.echo(findings_text(c) if alle else key_findings_text(c))


@main.command("groep")
@click.option("--gemeente", required=True, help="Naam of NIS-code van een Vlaamse gemeente.")
@click.option("--k", "k", type=int, default=None,
              help="Aantal gelijkaardige gemeenten [standaard: k uit similarity.toml, 10].")
@click.option("--format", "fmt_", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
def group_cmd(gemeente: str, k: int | None, fmt_: str) -> None:
    """Stel de referentiegroep 'gelijkaardig' voor: de gemeenten die het meest op de gemeente
    lijken, met hun afstand en de kenmerken waarop ze het meest gelijken."""
    import lsbanalysis
    from lsbanalysis.analysis.similar import similar_municipalities
    from lsbanalysis.report.similarity import referentie_argument, similarity_text

    sg = similar_municipalities(lsbanalysis.load(), gemeente, k)
    if fmt_ == "csv":
        click.echo(sg.as_frame().to_csv(index=False), nl=False)
    elif fmt_ == "json":
        import json
        import math

        def finite(x: float) -> float | None:  # JSON has no NaN
            return x if math.isfinite(x) else None

        click.echo(json.dumps({
            "gemeente": {"nis": sg.target.nis, "naam": sg.target.name},
            "k": sg.k,
            "leden": sg.as_frame().to_dict(orient="records"),
            "kenmerken": [{"indicator": u.indicator, "jaar": u.year, "transformatie": u.transform,
                           "gewicht": u.weight, "gemeenten_met_waarde": u.covered}
                          for u in sg.variables],
            "standaardisering": sg.spec.standardisation,
            "afstand": sg.spec.distance,
            "afstand_k": finite(sg.kth_distance),
            "drempel_uitschieter": finite(sg.threshold),
            "waarschuwing": sg.warning,
            "opmerkingen": list(sg.notes),
            "referentie": referentie_argument(sg),
        }, ensure_ascii=False, indent=2))
    else:
        click.echo(similarity_text(sg))


@main.command("report")
@click.option("--gemeente", default=None, help="Naam of NIS-code van de gemeente.")
@click.option("--alle", is_flag=True,
              help="Een rapport voor elke Vlaamse gemeente (indeling 2025), of voor die van "
                   "--provincie, --arrondissement of --gemeenten, plus een overzichtspagina.")
@click.option("--provincie", default=None,
              help="Met --alle: alleen de gemeenten van deze provincie (naam of NIS-code).")
@click.option("--arrondissement", default=None,
              help="Met --alle: alleen de gemeenten van dit arrondissement (naam of NIS-code).")
@click.option("--gemeenten", default=None,
              help="Met --alle: alleen deze gemeenten (namen of NIS-codes, met komma's).")
@click.option("--referentie", required=True,
              help="Referentiegroep: ISOM, arrondissement, buren, gelijkaardig, of een lijst "
                   "gemeenten (namen of NIS-codes, met komma's).")
@click.option("--jaar", type=int, default=None,
              help="Referentiejaar: per indicator de laatste waarde tot en met dit jaar "
                   "[standaard: per indicator het meest recente jaar].")
@click.option("--uit", "out_root", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Map voor de rapporten [standaard: reports/].")
@click.option("--force", is_flag=True, help="Opnieuw maken, ook als niets veranderde.")
@click.option("--jobs", type=click.IntRange(1, 32), default=None,
              help="Eén rapport: hoofdstukken die tegelijk lopen [2]. Met --alle: rapporten die "
                   "tegelijk gemaakt worden [het aantal processorkernen].")
@click.option("--hoofdstukjobs", type=click.IntRange(1, 8), default=None,
              help="Met --alle: hoofdstukken die per rapport tegelijk lopen [de kernen die per "
                   "rapport overblijven, minstens 1].")
@click.option("--store", "store_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Verwerkte store [standaard: data/processed].")
@click.option("--wacht", "lock_timeout", type=click.FloatRange(min=0), default=600,
              show_default=True,
              help="Seconden wachten als een andere run hetzelfde rapport maakt (0: niet wachten).")
@click.option("--pdf", "pdf", is_flag=True,
              help="Ook analyserapport.pdf maken (A4, met headless Chromium).")
def report_cmd(gemeente: str | None, alle: bool, provincie: str | None,
               arrondissement: str | None, gemeenten: str | None, referentie: str,
               jaar: int | None, out_root: Path | None, force: bool, jobs: int | None,
               hoofdstukjobs: int | None, store_dir: Path | None, lock_timeout: float,
               pdf: bool) -> None:
    """Maak het analyserapport (één HTML-bestand, met --pdf ook een PDF) voor een gemeente en
    referentiegroep, of met --alle voor elke Vlaamse gemeente.

    Met --jaar N toont het rapport per indicator de laatste waarde tot en met N, in een eigen
    map (bv. reports/herenthout-isom-2022/).
    """
    from datetime import datetime

    from lsbanalysis.paths import REPORTS_DIR

    _skip_iri_grammar()
    from lsbanalysis.report import runner
    from lsbanalysis.report.assemble import dutch_date

    filters = {"--provincie": provincie, "--arrondissement": arrondissement,
               "--gemeenten": gemeenten}
    if alle:
        if gemeente is not None:
            raise click.UsageError("Geef --gemeente (één rapport) of --alle (een reeks), niet "
                                   "allebei; kies gemeenten voor een reeks met --gemeenten.")
        _report_batch(provincie, arrondissement, gemeenten, referentie, jaar,
                      out_root or REPORTS_DIR, force, jobs, hoofdstukjobs, store_dir,
                      lock_timeout, pdf)
        return
    used = [name for name, value in filters.items() if value is not None]
    if used or hoofdstukjobs is not None:
        raise click.UsageError(f"{(used or ['--hoofdstukjobs'])[0]} hoort bij --alle: "
                               "geef --alle mee voor een reeks rapporten.")
    if gemeente is None:
        raise click.UsageError("Geef --gemeente (één rapport) of --alle (een reeks rapporten).")

    result = runner.build_report(
        gemeente, referentie, jaar, out_root=out_root or REPORTS_DIR, force=force,
        jobs=jobs or 2, store_dir=store_dir, lock_timeout=lock_timeout, pdf=pdf,
        progress=lambda line: click.echo(f"  {line}", err=True),
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


def _skip_iri_grammar() -> None:
    """Keep jsonschema from building the RFC 3987 (IRI) grammar of ``rfc3987-syntax``.

    papermill imports nbformat, which imports jsonschema, which on import builds that grammar
    with lark for its optional "iri" format check: more than a second of every ``lsb report``.
    Nothing in this process checks IRIs (nbformat validates notebooks with fastjsonschema), so
    the command tells Python the package is absent; jsonschema then leaves the check out.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


def _report_batch(provincie, arrondissement, gemeenten, referentie, jaar, out_root: Path,
                  force, jobs, hoofdstukjobs, store_dir, lock_timeout, pdf) -> None:
    """``lsb report --alle``: the reports of many municipalities and their overview page."""
    import lsbanalysis
    from lsbanalysis.report import batch

    ds = lsbanalysis.load(store_dir)
    selection = batch.select_municipalities(ds, provincie=provincie,
                                            arrondissement=arrondissement, gemeenten=gemeenten)
    n = len(selection.municipalities)
    result = batch.run_batch(
        selection, referentie, jaar, out_root=out_root, jobs=jobs,
        chapter_jobs=hoofdstukjobs, force=force, pdf=pdf,
        store_dir=store_dir, lock_timeout=lock_timeout, dataset=ds,
    )
    click.echo(batch.summary_text(result))
    if result.failures:
        names = ", ".join(o.name for o in result.failures[:5])
        more = f" en {len(result.failures) - 5} andere" if len(result.failures) > 5 else ""
        raise batch.BatchError(
            f"{len(result.failures)} van de {n} rapporten mislukt ({names}{more}); de andere "
            "zijn gepubliceerd. Een nieuwe run maakt alleen de mislukte en de gewijzigde "
            "rapporten opnieuw."
        )


def _shown(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


if __name__ == "__main__":
    main()
