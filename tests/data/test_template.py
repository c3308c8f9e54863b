"""Templates: French headers, formatting, notice, pre-filled EPCI, and the round trip to the reader."""

import importlib.util
import io
import math
from pathlib import Path

import pytest
from openpyxl import load_workbook

from model.data.schema import LABELS_FR, NUMERIC
from model.data.template import HEADERS, write_template
from model.data.userfile import read_user_table
from model.errors import InputError

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_templates.py"

EXPECTED_HEADERS = ["Code INSEE", "Commune", *[LABELS_FR[f] for f in NUMERIC]]


def test_blank_xlsx_layout(tmp_path):
    path = write_template(tmp_path / "modele.xlsx")
    assert path == tmp_path / "modele.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == ["Communes", "Notice"]
    ws = wb["Communes"]
    header = [c.value for c in ws[1]]
    assert header == EXPECTED_HEADERS == list(HEADERS)
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.max_row == 1 or all(c.value is None for row in ws.iter_rows(min_row=2) for c in row)
    assert ws.column_dimensions["B"].width >= 25
    assert ws["A2"].number_format == "@"  # codes kept as text: no lost leading zero
    assert ws["C2"].number_format == "#,##0"
    assert "€" in ws["D2"].number_format


def test_notice_explains_every_column_and_sources(tmp_path):
    wb = load_workbook(write_template(tmp_path / "modele.xlsx"))
    text = "\n".join(str(v) for row in wb["Notice"].iter_rows(values_only=True) for v in row
                     if v is not None)
    for label in EXPECTED_HEADERS:
        assert label in text
    for unit in ("habitants", "€ par an", "ETP", "Go", "sièges"):
        assert unit in text
    assert "« estimé »" in text and "ratios nationaux" in text
    for source in ("INSEE", "DGCL", "@etalab/decoupage-administratif 6.0.0", "Licence Ouverte"):
        assert source in text


def test_prefilled_xlsx_for_beauce(tmp_path, beauce):
    ws = load_workbook(write_template(tmp_path / "beauce.xlsx", beauce))["Communes"]
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] is not None]
    assert len(rows) == 23
    assert {r[0] for r in rows} == set(beauce.communes.index)
    for code, name, population, *rest in rows:
        assert isinstance(code, str)
        assert name == beauce.communes.loc[code, "name"]
        assert population == beauce.communes.loc[code, "population"]
        assert rest == [None] * (len(NUMERIC) - 1)
    notice = [v for row in load_workbook(tmp_path / "beauce.xlsx")["Notice"].iter_rows(
        values_only=True) for v in row if v]
    assert "200035764" in notice[0]


def test_prefilled_template_reads_back_unchanged(tmp_path, agglopolys):
    df = read_user_table(write_template(tmp_path / "a.xlsx", agglopolys), agglopolys)
    assert len(df) == 43
    assert (df["population"] == agglopolys.communes["population"].reindex(df.index)).all()
    assert (df["name"] == agglopolys.communes["name"].reindex(df.index)).all()
    assert df[list(NUMERIC[1:])].isna().all().all()


def test_round_trip_fill_cells_with_openpyxl(tmp_path, agglopolys):
    path = write_template(tmp_path / "agglopolys.xlsx", agglopolys)
    wb = load_workbook(path)
    ws = wb["Communes"]
    col = {cell.value: cell.column for cell in ws[1]}
    row_of = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    filled = {
        ("41018", "rrf_eur"): 65432100.5,
        ("41018", "agents"): 812.5,
        ("41295", "drf_eur"): "7 654 321,09",     # typed as text by a French user
        ("41295", "potentiel_financier_eur"): 9876543,
        ("41009", "workstations"): 4,
        ("41009", "archive_gb"): 0,
        ("41009", "licence_seats"): 12,
        ("41009", "population"): 680,
    }
    for (code, field), value in filled.items():
        ws.cell(row=row_of[code], column=col[LABELS_FR[field]], value=value)
    wb.save(path)
    df = read_user_table(path, agglopolys)
    expected = {k: (7654321.09 if isinstance(v, str) else float(v)) for k, v in filled.items()}
    for (code, field), value in expected.items():
        assert df.loc[code, field] == value
    assert df.loc["41018", "population"] == 47092
    untouched = df.drop(index=["41018", "41295", "41009"])[list(NUMERIC[1:])]
    assert untouched.isna().all().all()


def test_round_trip_bad_cells_point_at_template_cells(tmp_path, agglopolys):
    path = write_template(tmp_path / "agglopolys.xlsx", agglopolys)
    wb = load_workbook(path)
    ws = wb["Communes"]
    ws["E3"] = -10  # DRF of the second commune
    ws["A5"] = "99999"
    wb.save(path)
    with pytest.raises(InputError) as info:
        read_user_table(path, agglopolys)
    assert [(p.row, p.column) for p in info.value.problems] == [
        (3, LABELS_FR["drf_eur"]), (5, "Code INSEE")]


def test_csv_template(tmp_path, beauce):
    blank = write_template(tmp_path / "modele.csv").read_bytes()
    assert blank.startswith(b"\xef\xbb\xbf")
    assert blank.decode("utf-8-sig") == ";".join(EXPECTED_HEADERS) + "\r\n"
    path = write_template(tmp_path / "beauce.csv", beauce)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 24 and lines[0].split(";") == EXPECTED_HEADERS
    df = read_user_table(path, beauce)
    assert (df["population"] == beauce.communes["population"].reindex(df.index)).all()
    lines[1] = lines[1].rstrip(";") + ";1 234 567,5" + ";" * (len(NUMERIC) - 2)
    path.write_text("\n".join(lines), encoding="utf-8-sig")
    df = read_user_table(path, beauce)
    assert df.iloc[0]["rrf_eur"] == 1234567.5 and math.isnan(df.iloc[1]["rrf_eur"])


def test_output_is_reproducible(tmp_path, agglopolys):
    one = write_template(tmp_path / "a.xlsx", agglopolys).read_bytes()
    two = write_template(tmp_path / "b.xlsx", agglopolys).read_bytes()
    assert one == two


def test_unsupported_extension(tmp_path):
    with pytest.raises(InputError) as info:
        write_template(tmp_path / "modele.ods")
    assert "non prise en charge" in str(info.value)
    assert not (tmp_path / "modele.ods").exists()


def test_committed_templates_are_up_to_date(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_templates", SCRIPT)
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    committed = {p.name: p.read_bytes() for p in make.OUT.iterdir()}
    monkeypatch.setattr(make, "OUT", tmp_path)
    fresh = {p.name: p.read_bytes() for p in make.main()}
    assert set(fresh) == {"modele_communes.xlsx", "modele_communes.csv",
                          "modele_communes_agglopolys.xlsx"}
    assert {n: _canonical(b) for n, b in fresh.items()} == {
        n: _canonical(committed.get(n)) for n in fresh}, (
        "data/templates/ is stale: run scripts/make_templates.py")


def _canonical(data: bytes | None):
    """A workbook's parts as canonical XML (openpyxl writes the same content with different
    bytes depending on whether lxml is installed); other files as they are."""
    import xml.etree.ElementTree as ET
    import zipfile

    if data is None or not data.startswith(b"PK"):
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: ET.canonicalize(z.read(name).decode("utf-8")) if name.endswith(
            (".xml", ".rels")) else z.read(name) for name in sorted(z.namelist())}
