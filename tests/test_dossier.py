"""The dossier de plénière (model/report/dossier.py, `python -m model dossier`): one HTML page that
loads nothing, names the territory, gives every chart a text alternative and its data, splits
the pooled cost to the cent in French numbers; the PDF is optional and its absence is said in
French. The browser and the PDF themselves are tested in tests/ui/test_dossier_browser.py."""

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from model.cli import main
from model.errors import InputError
from model.report import charts
from model.report import dossier as dossier_module
from model.report.dossier import (
    HTML_NAME,
    PDF_NAME,
    Figures,
    dossier_html,
    dossier_results,
    eur_cents,
    map_figure,
    print_pdf,
    write_dossier,
)
from model.report.export import MARKER_FILE
from model.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "data" / "scenarios" / "beauce_loiretaine.yaml"
#: An amount to the cent as the dossier writes it: 12 345,67 € (narrow no-break spaces).
EUR_CENTS = re.compile(r"^−?\d{1,3}(\u202f\d{3})*,\d{2}\u00a0€$")
#: Attributes through which a page would load or link something.
URL_ATTRS = {"src", "href", "xlink:href", "srcset", "action", "formaction", "poster", "data",
             "background", "manifest", "ping", "cite", "longdesc"}


@pytest.fixture(scope="module")
def results():
    return dossier_results(Scenario.from_yaml(SCENARIO), "potentiel_financier")


@pytest.fixture(scope="module")
def page(results):
    a, b = results
    return dossier_html(a, variant=b)


class Page(HTMLParser):
    """The tags, attributes and tables of a page (tables as rows of cell texts, by section)."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._part = "tbody"
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "table":
            self.tables.append({"class": attrs.get("class", ""), "thead": [], "tbody": [],
                                "tfoot": [], "caption": ""})
        elif tag in ("thead", "tbody", "tfoot"):
            self._part = tag
        elif tag == "tr" and self.tables:
            self.tables[-1][self._part].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][self._part][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def figures_of(text: str) -> list[str]:
    return re.findall(r"<figure\b.*?</figure>", text, flags=re.DOTALL)


def test_the_page_loads_nothing_from_outside(page):
    parsed = Page(page)
    for tag, attrs in parsed.tags:
        assert tag not in ("script", "link", "iframe", "object", "embed", "base"), tag
        for name, value in attrs.items():
            if name in URL_ATTRS:
                assert value.startswith(("#", "data:")), (tag, name, value)
            assert not name.startswith("on"), (tag, name)  # no event handler: no script at all
    assert "@import" not in page and "@font-face" not in page
    assert not re.search(r"url\(\s*['\"]?(?!#|data:)", page)
    assert not re.search(r"(src|href)\s*=\s*['\"]?\s*(https?:)?//", page, flags=re.IGNORECASE)
    assert "default-src 'none'" in page  # and the browser is told to fetch nothing


def test_the_page_names_the_territory_and_the_scenario(results, page):
    a, _ = results
    name = a.projection.resolved.epci.name
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    assert name in html.unescape(title)
    assert name in html.unescape(re.search(r"<h1>(.*?)</h1>", page).group(1))
    text = html.unescape(page)
    assert a.resolved.scenario.name in text
    assert a.summary["scissor"]["headline_fr"] in text
    assert a.summary["data_vintage"] in text
    assert '<html lang="fr">' in page


def test_every_figure_has_a_caption_a_text_alternative_and_its_data(results, page):
    a, _ = results
    figures = figures_of(page)
    assert len(figures) >= 4  # blades, waterfall, burdens, who pays more with B (+ the map)
    for fig in figures:
        assert re.search(r"<figcaption>.+?</figcaption>", fig, flags=re.DOTALL)
        label = re.search(r'<svg role="img" aria-label="([^"]+)"', fig)
        assert label and len(html.unescape(label.group(1))) > 30
        assert "<table>" in fig and "<caption>Données de la figure" in fig
        assert len(re.findall(r"<tr>", fig)) >= 3
    blades = charts.blades_chart(a.projection.projection, big=True).to_dict()["description"]
    assert blades in [html.unescape(re.search(r'aria-label="([^"]+)"', f).group(1))
                      for f in figures]


def test_the_split_per_commune_balances_to_the_cent(results, page):
    a, _ = results
    year = a.projection.years[0]
    split = next(t for t in Page(page).tables if t["class"] == "split")
    pooled = next(y for y in a.summary["years"] if y["year"] == year)["pooled_cost_eur"]
    expected = round(sum(pooled.values()) * 100)

    def cents(text: str) -> int:
        assert EUR_CENTS.match(text), repr(text)
        return round(float(text.replace("\u202f", "").replace("\u00a0€", "").replace(",", ".")
                           .replace("−", "-")) * 100)

    paid = split["thead"][0].index("Montant payé")
    total = cents(split["tfoot"][0][paid])
    assert total == expected
    assert sum(cents(row[paid]) for row in split["tbody"]) == total
    assert len(split["tbody"]) >= len(a.projection.resolved.communes.values)


def test_numbers_are_written_the_french_way(results, page):
    a, _ = results
    text = html.unescape(re.sub(r"<svg.*?</svg>", "", page, flags=re.DOTALL))
    assert not re.search(r"\d,\d{3}\.\d", text)  # no 1,234.56
    assert not re.search(r"\d\.\d{2}\s?€", text)  # no 12.34 €
    population = f"{a.summary['epci']['population']:,}".replace(",", "\u202f")
    assert population in text
    assert eur_cents(1234567.891) == "1\u202f234\u202f567,89\u00a0€"
    assert eur_cents(-5) == "−5,00\u00a0€"
    amounts = re.findall(r"−?\d{1,3}(?:\u202f\d{3})*,\d{2}\u00a0€", text)
    assert len(amounts) > 50


def test_the_variant_is_compared_and_the_negative_savings_named(page):
    text = html.unescape(page)
    assert "Et avec la variante B ?" in text and "Qui paie plus, qui paie moins avec B" in text
    assert "Les communes dont l'épargne brute devient négative" in text
    assert "Les hypothèses et leurs sources" in text and "Annexe financière" in text


def test_a_year_outside_the_projection_is_refused_in_french(results):
    with pytest.raises(InputError, match="hors de la projection"):
        dossier_html(results[0], year=1999)


def test_the_map_is_drawn_and_skipped_when_contours_cannot_be_read(results, monkeypatch):
    year = results[0].projection.years[0]
    assert f"Ce que chaque commune économise en {year}" in map_figure(Figures(), results[0], year)

    def unreadable(_codes):
        raise OSError("data/contours/41.topojson.gz: permission refusée")

    monkeypatch.setattr("model.data.contours.commune_contours", unreadable)
    assert map_figure(Figures(), results[0], year) == ""


def test_without_a_browser_the_html_is_written_and_the_reason_said(results, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setattr(dossier_module, "find_browser", lambda: None)
    out = tmp_path / "dossier"
    files = write_dossier(results[0], out)
    assert files == [out / HTML_NAME]
    assert files.pdf_note.startswith("PDF non produit : aucun navigateur")
    assert "Ctrl+P" in files.pdf_note
    assert sorted(p.name for p in out.iterdir()) == sorted([HTML_NAME, MARKER_FILE])


def test_a_failing_browser_gives_a_french_reason(tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<p>x</p>", encoding="utf-8")
    note = print_pdf(page, tmp_path / "p.pdf", browser="/bin/false")
    assert note.startswith("PDF non produit : le navigateur (false) a échoué")
    note = print_pdf(page, tmp_path / "p.pdf", browser=str(tmp_path / "absent"))
    assert note.startswith("PDF non produit : le navigateur") and "ne démarre pas" in note


def test_cli_writes_the_dossier(tmp_path, capsys):
    out = tmp_path / "plénière"
    assert main(["dossier", str(SCENARIO), "--out", str(out), "--sans-pdf", "--annee",
                 "2028"]) == 0
    assert (out / HTML_NAME).is_file() and not (out / PDF_NAME).exists()
    assert (out / MARKER_FILE).is_file()
    said = capsys.readouterr().out
    assert said.startswith("Dossier de plénière de CC de la Beauce Loirétaine écrit")
    assert "Qui paie quoi en 2028" in (out / HTML_NAME).read_text(encoding="utf-8")


def test_cli_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    out = tmp_path / "mes documents"
    out.mkdir()
    (out / "budget.xlsx").write_bytes(b"precious")
    assert main(["dossier", str(SCENARIO), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Erreur : le dossier de sortie") and "n'est pas vide" in err
    assert "rien n'a été modifié" in err
    assert sorted(p.name for p in out.iterdir()) == ["budget.xlsx"]
