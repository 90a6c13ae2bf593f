"""Pull tables to a spreadsheet: find the tables in a scan, download them as an Excel
workbook (one sheet per table), and read them into pandas to compute with.

    export OCRCHAT_BASE_URL=http://127.0.0.1:8000 OCRCHAT_API_TOKEN=ocr_...
    python examples/tables_to_excel.py [DOCUMENT]

Without DOCUMENT it reads ``data/sales_table.png`` beside this script, a scanned table
(made by data/make_samples.py). ``tool="extract-tables"`` has the server find each
table and read it cell by cell; the workbook, ``<name>.xlsx`` in the current directory,
has a sheet per table. A PDF goes with ``ocr="force"``: the server would read a
born-digital PDF's own text layer, which has no table structure, so its pages are OCRed
instead (try ``data/invoice.pdf``: its line items come out as a table). Needs
``pip install ocrchat``; with pandas (``pip install 'ocrchat[pandas]'``) it also prints
each table as a DataFrame, its columns of figures summed.
"""

import sys
from pathlib import Path

import ocrchat

HERE = Path(__file__).resolve().parent
document = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "data/sales_table.png"
born_digital = document.suffix.lower() == ".pdf"

with ocrchat.Client() as client:  # $OCRCHAT_BASE_URL and $OCRCHAT_API_TOKEN
    job = client.ocr(
        document, tool="extract-tables", language="eng", ocr="force" if born_digital else None
    )
    workbook = client.download(job, "xlsx", Path(document.stem + ".xlsx"))

tables = job.tables()  # [(page index, Table), ...] in reading order
print(f"{len(tables)} table(s) found; workbook written to {workbook}")

try:
    import pandas as pd
except ImportError:  # no pandas: the cells as read, row by row
    for page, table in tables:
        print(f"page {page + 1}:")
        for row in table.rows:
            print("  " + " | ".join(row))
else:
    for page, table in tables:
        frame = table.to_pandas()  # the first row gives the column names
        # cells are text as read: keep the columns whose every cell is a number
        figures = frame.set_index(frame.columns[0]).apply(pd.to_numeric, errors="coerce")
        figures = figures.dropna(axis="columns")
        figures.loc["Total"] = figures.sum()
        print(f"page {page + 1}:")
        print(figures.to_string())
