"""The Simulateur's files: the pre-filled template to download, an upload that can be chosen
again after a refusal, and the report of the year on screen."""

import base64
import datetime
import io
import re
from pathlib import Path

import openpyxl
import pytest

from model.ui.panels import SimulatorPanel

AGGLOPOLYS_TEMPLATE = (Path(__file__).resolve().parents[2] / "data" / "templates"
                       / "modele_communes_agglopolys.xlsx")


@pytest.fixture
def panel(sim, beauce_scenario):
    return SimulatorPanel(beauce_scenario, simulation=sim, offline=False)


def link_bytes(html: str) -> bytes:
    return base64.b64decode(re.search(r"base64,([^']+)'", html).group(1))


def as_upload(name: str, content: bytes) -> tuple[dict, ...]:
    return ({"name": name, "type": "", "size": len(content), "content": memoryview(content),
             "last_modified": datetime.datetime(2026, 11, 23, tzinfo=datetime.UTC)},)


def test_the_template_offered_is_pre_filled_with_the_communes_on_screen(panel):
    wb = openpyxl.load_workbook(io.BytesIO(link_bytes(panel.template_link.value)))
    ws = wb["Communes"]
    header = [c.value for c in ws[1]]
    codes = {str(r[header.index("Code INSEE")]) for r in ws.iter_rows(min_row=2, values_only=True)
             if r[header.index("Code INSEE")]}
    assert codes == set(panel.view.projection.resolved.epci.communes.index)
    assert "23 communes" in panel.template_link.value
    panel.search.value = "200030385"
    panel.epci.value = "200030385"
    assert "43 communes" in panel.template_link.value


def test_the_upload_says_what_it_takes_and_a_refused_file_can_be_chosen_again(panel):
    assert panel.upload.tooltip and panel.upload.tooltip != "null"
    wrong = AGGLOPOLYS_TEMPLATE.read_bytes()  # Agglopolys' communes, Beauce on screen
    panel.upload.value = as_upload("agglopolys.xlsx", wrong)
    first = panel.message
    assert "Fichier refusé" in first and panel.user_table is None
    assert panel.upload.value == ()  # emptied: the browser may send the same file again
    panel.show("", "info")
    panel.upload.value = as_upload("agglopolys.xlsx", wrong)  # the same file, chosen again
    assert panel.message == first


def test_the_report_is_the_year_on_screen(panel):
    panel.year.value = panel.year.options[-1]
    panel.report_button.click()
    assert panel.report_bytes[:2] == b"PK"
    assert f"_{panel.year.value}.xlsx" in panel.report_link.value
    wb = openpyxl.load_workbook(io.BytesIO(panel.report_bytes), read_only=True)
    cover = {r[0]: r[1] for r in wb["Couverture"].iter_rows(values_only=True) if r and r[0]}
    assert cover["Année présentée"] == panel.year.value
    annex = re.search(r"href='data:application/vnd.openxmlformats-officedocument"
                      r"\.wordprocessingml\.document;base64,([^']+)'", panel.report_link.value)
    import docx

    text = "\n".join(p.text for p in docx.Document(io.BytesIO(base64.b64decode(
        annex.group(1)))).paragraphs)
    assert f"convention de service commun, {panel.year.value}" in text


def test_a_file_of_another_epci_gets_one_sentence_naming_it(panel):
    assert not panel.load_user_file("agglopolys.xlsx", AGGLOPOLYS_TEMPLATE.read_bytes())
    msg = panel.message
    assert ('ce fichier décrit les communes de CA de Blois "Agglopolys" (43 des 43 communes du '
            "fichier), pas de CC de la Beauce Loirétaine") in msg
    assert "n'est pas membre" not in msg and msg.count("\n") <= 2


def test_the_count_is_of_communes_the_user_filled_not_of_rows(panel):
    wb = openpyxl.load_workbook(AGGLOPOLYS_TEMPLATE)
    ws = wb["Communes"]
    header = [c.value for c in ws[1]]
    for row in (2, 3, 4):  # three communes with their own agents; the others as delivered
        ws.cell(row=row, column=header.index("Agents (ETP)") + 1, value=12)
    buf = io.BytesIO()
    wb.save(buf)
    panel.search.value = "200030385"
    panel.epci.value = "200030385"
    assert panel.load_user_file("trois.xlsx", buf.getvalue())
    assert "vos chiffres pour 3 communes sur 43, les 40 autres estimées" in panel.data_label.value
