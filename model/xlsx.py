"""French workbooks written fast (XlsxWriter) and byte for byte reproducible.

`sheet_layout` turns a DataFrame with French headers into what a reader sees (each number's
format from its header, widths from the content, long text wrapped, a headline sentence spanning
the table); `write_workbook` writes the layouts, with native Excel charts, frozen header rows and
print settings (A4 landscape, one page wide, the header repeated on every page).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)
FIXED_W3CDTF = b"2026-01-01T00:00:00Z"
CREATOR = "mutualisation-cost-modeller"

#: Euros to the cent; Excel shows the thousands and decimal separators of the reader's locale.
EURO_FORMAT = '#,##0.00\\ "€"'
EURO_WHOLE_FORMAT = '#,##0\\ "€"'
PCT_FORMAT = "0.00%"
INT_FORMAT = "#,##0"
YEAR_FORMAT = "0"
NUMBER_FORMAT = "#,##0.00"
#: Headers (French) whose numbers are ratios, shown as percentages.
PCT_MARKERS = ("Taux", "Charge", "Part d'usage", "Seuil", "TEB", "(%)", "(points)",
               "Hausse du numérique / épargne brute", "t*")
YEAR_MARKERS = ("Année", "Exercice")
MAX_WIDTH = 60
HEADER_COLOUR = "#1F4E79"


def number_format(header: str, value) -> str:
    """The format of a number under a French header: euros, percentage, year, count, decimal."""
    if "€" in header:
        return EURO_FORMAT
    if any(k in header for k in PCT_MARKERS):
        return PCT_FORMAT
    if any(header.startswith(k) for k in YEAR_MARKERS):
        return YEAR_FORMAT
    if float(value).is_integer():
        return INT_FORMAT
    return NUMBER_FORMAT


def shown_length(value, fmt: str | None) -> int:
    """How many characters a cell shows under its number format."""
    if value is None:
        return 0
    if isinstance(value, bool):
        return 3
    if isinstance(value, int | float):
        if fmt == EURO_FORMAT:
            return len(f"{value:,.2f}") + 2
        if fmt == PCT_FORMAT:
            return len(f"{value * 100:.2f}") + 1
        if fmt == YEAR_FORMAT:
            return len(str(int(value)))
        if fmt == INT_FORMAT:
            return len(f"{value:,.0f}")
        return len(f"{value:,.2f}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def _plain(v):
    """A cell value as a plain Python scalar; None for a missing one."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v.item() if hasattr(v, "item") else v


@dataclass
class Chart:
    """A native Excel chart drawn from columns of its sheet: ``category`` gives the x axis (one
    row per point), each of ``series`` one line or stacked column."""

    title: str
    kind: str  # "line" or "stacked"
    #: the x axis's column; unused when the sheet's data run along rows
    category: str
    #: the columns (or, in a sheet laid out by row, the row labels) drawn
    series: list[str]
    y_title: str = ""
    y_format: str = EURO_WHOLE_FORMAT
    #: one colour per series ("#0072B2"), or Excel's own when empty
    colours: list[str] = field(default_factory=list)
    #: (row, column) of the top left corner, 0-based; below the table when None
    anchor: tuple[int, int] | None = None
    size: tuple[int, int] = (640, 320)


@dataclass
class SheetLayout:
    """What one sheet shows: the header, the rows, each number's format, widths, wraps."""

    title: str
    header: list[str]
    rows: list[list]
    formats: list[list[str | None]]
    widths: list[float]
    wrapped: set[tuple[int, int]] = field(default_factory=set)
    #: a sentence alone on the first data row (the sheet's headline) spans the table's width
    sentence: bool = False
    sentence_height: float = 15.0
    header_height: float = 15.0
    #: rows shown in bold (totals), 0-based among the data rows
    bold: set[int] = field(default_factory=set)
    charts: list[Chart] = field(default_factory=list)
    #: the charts' data run along rows (one series per row, the header as categories)
    by_row: bool = False


def sheet_layout(title: str, df: pd.DataFrame, charts: list[Chart] | None = None,
                 by_row: bool = False) -> SheetLayout:
    """Lay a French table out: formats from headers (from each row's label in the first column
    when ``by_row``: a table with the years across), widths from the content (at most
    `MAX_WIDTH`, longer text wrapped), the header wrapping on up to three lines, totals bold."""
    header = [str(c) for c in df.columns]
    rows = [[_plain(v) for v in row] for row in df.itertuples(index=False, name=None)]
    formats = [[number_format(str(row[0]) if by_row else h, v)
                if isinstance(v, int | float) and not isinstance(v, bool) else None
                for h, v in zip(header, row, strict=True)] for row in rows]
    first = rows[0] if rows else []
    sentence = (len(header) > 1 and bool(first) and isinstance(first[0], str)
                and len(first[0]) > MAX_WIDTH and all(v is None for v in first[1:]))
    wrapped: set[tuple[int, int]] = set()
    widths = []
    for j, name in enumerate(header):
        longest = 0
        for i, row in enumerate(rows):
            if sentence and i == 0:
                continue
            length = shown_length(row[j], formats[i][j])
            if length > MAX_WIDTH:
                wrapped.add((i, j))
            longest = max(longest, length)
        head = max(min(len(name), 30), -(-len(name) // 3))
        widths.append(min(MAX_WIDTH, max(8, longest, head) + 2))
    height = 15.0
    if sentence:
        height = 15.0 * (-(-len(first[0]) // max(1, int(sum(widths)))) + 1)
    lines = max((-(-len(h) // max(1, int(w) - 2)) for h, w in zip(header, widths, strict=True)),
                default=1)
    bold = {i for i, row in enumerate(rows)
            if any(isinstance(v, str) and v.startswith("Total") for v in row[:2])}
    return SheetLayout(title[:31], header, rows, formats, widths, wrapped, sentence, height,
                       15.0 * lines, bold, list(charts or []), by_row)


def write_workbook(layouts: list[SheetLayout]) -> bytes:
    """The workbook's bytes (XlsxWriter): French formats, frozen header, A4 landscape one page
    wide with the header repeated, native charts; same layouts, same bytes."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                   "strings_to_urls": False, "strings_to_numbers": False})
    wb.set_properties({"author": CREATOR, "created": datetime(*FIXED_ZIP_TIME)})
    head = {"bold": True, "font_color": "#FFFFFF", "bg_color": HEADER_COLOUR, "text_wrap": True,
            "valign": "top"}
    header_fmt = wb.add_format(head)
    header_right = wb.add_format(head | {"align": "right"})
    cache: dict[tuple[str | None, bool, bool, bool], object] = {}

    def fmt(num: str | None, wrap: bool, bold: bool = False, right: bool = False):
        key = (num, wrap, bold, right)
        if key not in cache:
            props: dict = {}
            if num:
                props["num_format"] = num
            if wrap:
                props |= {"text_wrap": True, "valign": "top"}
            if bold:
                props["bold"] = True
            if right:
                props["align"] = "right"
            cache[key] = wb.add_format(props) if props else None
        return cache[key]

    for lay in layouts:
        ws = wb.add_worksheet(lay.title)
        ws.write_row(0, 0, lay.header, header_fmt)
        if lay.by_row:  # the years across, right-aligned over their numbers
            ws.write_row(0, 1, lay.header[1:], header_right)
        ws.set_row(0, lay.header_height)
        for i, (row, nums) in enumerate(zip(lay.rows, lay.formats, strict=True), start=1):
            bold = (i - 1) in lay.bold
            for j, v in enumerate(row):
                if v is None:
                    continue
                f = fmt(nums[j], (i - 1, j) in lay.wrapped, bold)
                if isinstance(v, str):
                    ws.write_string(i, j, v, fmt(None, False, bold, True)
                                    if lay.by_row and j else f)
                elif isinstance(v, bool):
                    ws.write_boolean(i, j, v, f)
                elif isinstance(v, int | float):
                    ws.write_number(i, j, v, f)
                else:
                    ws.write_string(i, j, str(v), f)
        for j, width in enumerate(lay.widths):
            ws.set_column(j, j, width)
        if lay.sentence:
            ws.merge_range(1, 0, 1, len(lay.header) - 1, lay.rows[0][0], fmt(None, True))
            ws.set_row(1, lay.sentence_height)
        ws.freeze_panes(1, 0)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        x = 0
        for chart in lay.charts:
            _add_chart(wb, ws, lay, chart, x)
            x += chart.size[0] + 16
    wb.close()
    return reproducible_xlsx(buf.getvalue())


def _add_chart(wb, ws, lay: SheetLayout, spec: Chart, x_offset: int) -> None:
    """One native chart, below the table (beside the previous chart) unless anchored."""
    n = len(lay.rows)
    if spec.kind == "stacked":
        chart = wb.add_chart({"type": "column", "subtype": "stacked"})
    else:
        chart = wb.add_chart({"type": "line"})
    last = len(lay.header) - 1
    labels = [row[0] for row in lay.rows]
    for k, name in enumerate(spec.series):
        if lay.by_row:  # one row per series, the header's cells after the first as categories
            i = labels.index(name) + 1
            series = {"name": [lay.title, i, 0], "categories": [lay.title, 0, 1, 0, last],
                      "values": [lay.title, i, 1, i, last]}
        else:
            cat, col = lay.header.index(spec.category), lay.header.index(name)
            series = {"name": [lay.title, 0, col], "categories": [lay.title, 1, cat, n, cat],
                      "values": [lay.title, 1, col, n, col]}
        colour = spec.colours[k] if k < len(spec.colours) else None
        if spec.kind == "line":
            series["marker"] = {"type": "circle", "size": 4}
            if colour:
                series["line"] = {"color": colour, "width": 2.25}
                series["marker"] |= {"border": {"color": colour}, "fill": {"color": colour}}
        elif colour:
            series["fill"] = {"color": colour}
            series["border"] = {"color": colour}
        chart.add_series(series)
    chart.set_title({"name": spec.title, "name_font": {"size": 12}})
    chart.set_y_axis({"num_format": spec.y_format, "name": spec.y_title,
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_x_axis({"num_format": YEAR_FORMAT, "label_position": "low"})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": spec.size[0], "height": spec.size[1]})
    if spec.anchor:
        ws.insert_chart(*spec.anchor, chart, {"object_position": 3})
    else:
        ws.insert_chart(n + 2, 0, chart, {"object_position": 3, "x_offset": x_offset})


def reproducible_xlsx(data: bytes) -> bytes:
    """Same workbook, same bytes: fixed zip entry times and document timestamps."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*",
                                 rb"\g<1>" + FIXED_W3CDTF, content)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, content)
    return out.getvalue()
