"""The reference group 'gelijkaardig' explained in Dutch: how it was chosen, its members with
their distance and what makes them alike, and the warning for a municipality with few close
neighbours. Used by the summary chapter (only for that group) and by ``lsb groep``."""

from __future__ import annotations

import math

import pandas as pd

from lsbanalysis import fmt
from lsbanalysis.analysis.similar import SimilarGroup


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " en " + items[-1]


def _with_year(short: str, year: int) -> str:
    """'armoederisico (administratief)' + 2022 → 'armoederisico (administratief, 2022)'."""
    text = _lower(short)
    return f"{text[:-1]}, {year})" if text.endswith(")") else f"{text} ({year})"


def distance(value: float) -> str:
    return fmt.number(value, 2) if math.isfinite(value) else "–"


def method_markdown(sg: SimilarGroup) -> str:
    """How the group was chosen, in plain Dutch (variables and years, scale, distance)."""
    spec = sg.spec
    uses = sg.variables
    named = _listing([_with_year(u.short, u.year) for u in uses])
    logs = [_lower(u.short) for u in uses if u.transform == "log"]
    robust = spec.standardisation == "robust"
    scale = (
        "hoeveel keer de spreiding een gemeente boven of onder de middelste gemeente ligt "
        "(mediaan en interkwartielafstand / 1,349)" if robust else
        "hoeveel standaardafwijkingen een gemeente boven of onder het gemiddelde ligt "
        "(een z-score)")
    text = [
        f"De {sg.k} gemeenten die het meest op {sg.target.name} lijken, zijn gekozen uit de "
        f"{sg.compared} gemeenten van het {sg.region_name} op {len(uses)} kenmerken: {named}. "
        f"Per kenmerk telt het laatste jaar waarin minstens "
        f"{fmt.number(100 * spec.min_coverage, 0)} % van de gemeenten een cijfer heeft; een "
        "gemeente die in 2019 of 2025 fusioneerde, krijgt voor jaren op de oude indeling de "
        "som van haar deelgemeenten.",
        f"Om kenmerken in euro, procent en aantallen samen te kunnen nemen, is elk kenmerk "
        f"omgerekend naar {scale}, over de gemeenten van het {sg.region_name}."
        + (f" Voor {_listing(logs)} gebeurt dat op de logaritme: daar telt een verschil in "
           "procent (10 % meer inwoners weegt bij een kleine en een grote gemeente even zwaar)."
           if logs else ""),
        "De afstand tussen twee gemeenten is de gewone (Euclidische) afstand over die "
        "omgerekende kenmerken: de vierkantswortel van de som van de gekwadrateerde verschillen"
        + (", elk kenmerk even zwaar." if len({u.weight for u in uses}) == 1 else
           ", met gewichten " + _listing([f"{_lower(u.short)} {fmt.number(u.weight, 1)}"
                                           for u in uses]) + ".")
        + " Ontbreekt een cijfer (zoals een huizenprijs die Statbel bij te weinig verkopen "
        "niet publiceert), dan valt dat kenmerk weg voor die twee gemeenten en wordt de "
        "afstand naar alle kenmerken herschaald. Afstand 0 betekent gelijk op elk kenmerk; "
        f"twee willekeurige gemeenten liggen doorgaans {distance(sg.typical)} uit elkaar "
        "(de mediaan over alle paren).",
        "De groep is een voorstel: ze is berekend, niet gekozen om een uitkomst. Wie een "
        "gemeente wil weglaten of toevoegen, vertrekt van `lsb groep --gemeente "
        f"{sg.target.name}` en geeft de aangepaste lijst als `--referentie \"A,B,C\"`.",
    ]
    return "\n\n".join(text)


def members_frame(sg: SimilarGroup) -> pd.DataFrame:
    """The members nearest first: distance and the variables on which each is closest."""
    names = {u.indicator: _lower(u.short) for u in sg.variables}
    rows = []
    for i, n in enumerate(sg.neighbours, start=1):
        alike = ", ".join(names[v] for v in n.closest)
        if n.dropped:
            alike += f"; zonder cijfer: {', '.join(names[v] for v in n.dropped)}"
        rows.append({"Nr.": i, "Gemeente": n.municipality.name, "NIS": n.municipality.nis,
                     "Afstand": distance(n.distance),
                     f"Lijkt het meest op {sg.target.name} in": alike})
    return pd.DataFrame(rows)


def variables_frame(sg: SimilarGroup) -> pd.DataFrame:
    """Per variable: its year, the target's value and the range within the group."""
    rows = []
    members = [m.nis for m in sg.members[1:]]
    for u in sg.variables:
        own = sg.values.at[sg.target.nis, u.indicator]
        group = sg.values.loc[members, u.indicator].dropna()
        span = (f"{fmt.value(group.min(), u.unit)} – {fmt.value(group.max(), u.unit)}"
                if len(group) else "–")
        rows.append({"Kenmerk": u.short, "Jaar": str(u.year),
                     "Schaal": "logaritme" if u.transform == "log" else "gewoon",
                     sg.target.name: fmt.value(own, u.unit) if math.isfinite(own) else "n.b.",
                     "Gelijkaardige gemeenten (van – tot)": span})
    return pd.DataFrame(rows)


def outlier_markdown(sg: SimilarGroup) -> str:
    """The warning when the target has few close neighbours, else how close the group is."""
    if sg.warning:
        return f"**Let op.** {sg.warning}"
    if not math.isfinite(sg.kth_distance):
        return ""
    return (f"De afstand tot de {sg.k}de gelijkaardige gemeente is {distance(sg.kth_distance)}: "
            "gewoon. Het rapport waarschuwt pas dat de groep weinig op "
            f"{sg.target.name} lijkt boven {distance(sg.threshold)}, de afstand die "
            f"{fmt.number(sg.spec.outlier_percentile, 0)} % van de gemeenten van het "
            f"{sg.region_name} tot hun {sg.k}de gelijkaardige gemeente niet overschrijdt.")


def referentie_argument(sg: SimilarGroup) -> str:
    """The group as a list for ``--referentie``: the target first, then its neighbours."""
    return ",".join(m.name for m in sg.members)


def show_similarity(ch) -> None:
    """The summary's section on the group 'gelijkaardig' (shows nothing for other groups)."""
    sg = ch.group.similarity
    if sg is None:
        return
    ch.md("## Hoe de gelijkaardige gemeenten gekozen zijn\n\n" + method_markdown(sg)
          + ("\n\n*De groep is gekozen op de meest recente cijfers (jaren hierboven), ook in "
             f"dit rapport met referentiejaar {ch.jaar}.*" if ch.jaar is not None else ""))
    ch.table(members_frame(sg), "gelijkaardige_gemeenten",
             f"De {len(sg.neighbours)} gemeenten die het meest op {sg.target.name} lijken, "
             "met hun afstand (0 = gelijk op elk kenmerk)")
    ch.table(variables_frame(sg), "gelijkaardig_kenmerken",
             f"Kenmerken waarop de gelijkaardige gemeenten gekozen zijn: {sg.target.name} en "
             "de spreiding in de groep")
    extra = [outlier_markdown(sg), *sg.notes]
    text = "\n\n".join(t for t in extra if t)
    if text:
        ch.md(text)


def similarity_text(sg: SimilarGroup) -> str:
    """The suggestion for the terminal: members with distances, the method and how to use it."""
    frame = members_frame(sg)
    cols = list(frame.columns)
    rows = [[str(v) for v in r] for r in frame.itertuples(index=False)]
    widths = [max(len(x[i]) for x in [cols, *rows]) for i in range(len(cols))]
    right = {"Nr.", "Afstand"}

    def line(cells):
        return "  ".join(c.rjust(w) if h in right else c.ljust(w)
                         for c, w, h in zip(cells, widths, cols, strict=True)).rstrip()

    years = ", ".join(f"{u.short} {u.year}" + (" (log)" if u.transform == "log" else "")
                      for u in sg.variables)
    out = [f"Gelijkaardige gemeenten voor {sg.target} — de {len(sg.neighbours)} gemeenten van "
           f"het {sg.region_name} met de kleinste afstand", "",
           line(cols), line(["-" * w for w in widths]), *map(line, rows), "",
           f"Kenmerken (jaar): {years}.",
           ("Afstand: Euclidisch over z-scores" if sg.spec.standardisation == "zscore"
            else "Afstand: Euclidisch over robuust gestandaardiseerde waarden")
           + f" over de {sg.compared} gemeenten; twee willekeurige gemeenten liggen doorgaans "
           f"{distance(sg.typical)} uit elkaar."]
    warning = outlier_markdown(sg).replace("**", "")
    out += [w for w in (warning if sg.warning else "", *sg.notes) if w]
    out += ["", "Gebruik deze groep met --referentie gelijkaardig, of pas de lijst aan:",
            f"  lsb report --gemeente \"{sg.target.name}\" --referentie "
            f"\"{referentie_argument(sg)}\""]
    return "\n".join(out)
