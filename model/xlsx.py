"""Reproducible XLSX bytes: openpyxl stamps the current time into every workbook it saves."""

from __future__ import annotations

import io
import re
import zipfile

FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)
FIXED_W3CDTF = b"2026-01-01T00:00:00Z"


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
