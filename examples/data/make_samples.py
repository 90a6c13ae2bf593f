"""Make the sample documents the examples read.

    python examples/data/make_samples.py [FOLDER]

Writes these into FOLDER (default: beside this script), all of them invented (names,
companies and figures are made up):

- ``invoice.pdf``: a one-page invoice with a table of line items, born digital (the
  server reads its own text layer, in milliseconds);
- ``contract.pdf``: a three-page services agreement, born digital, for the chat example;
- ``annual_report.pdf``: a six-page report printed and scanned, pages of pixels only
  (every page is OCRed), for the progress-bar example;
- ``sales_table.png``: a scanned table with ruled cells, for the spreadsheet example.

Needs fpdf2 and Pillow (``pip install fpdf2 pillow``), nothing else: the PDFs use the
PDF's own Helvetica and the scans Pillow's built-in font. The committed files were made
by this script; run it again to remake them (the bytes may differ with other versions of
fpdf2 and Pillow, the text does not; tests/test_examples.py checks that).
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
MADE = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # fixed, so a remake changes nothing
DPI = 150  # of the scans: enough for OCR, small files

SELLER = ["Northwind Office Supplies Ltd.", "14 Quay Street, Galway H91 X2C4, Ireland"]
BUYER = ["Harbour Lane Architects", "2 Harbour Lane, Cork T12 E8R3, Ireland"]
LINE_ITEMS = [
    # description, quantity, unit price (euros)
    ("A4 copier paper, box of 5 reams", 6, "24.50"),
    ("Black toner cartridge TN-2420", 3, "68.00"),
    ("Ballpoint pens, blue, pack of 50", 2, "12.90"),
    ("Archive boxes, pack of 10", 4, "18.75"),
    ("Desk lamp, LED, dimmable", 1, "39.99"),
]
VAT_RATE = 23  # percent: Ireland's standard rate


def _pdf(title: str) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(MADE)
    pdf.set_title(title)
    pdf.set_author("ocrchat examples")
    pdf.set_auto_page_break(auto=True, margin=20)
    return pdf


def _cents(euros: str) -> int:
    whole, cents = euros.split(".")
    return int(whole) * 100 + int(cents)


def _euros(cents: int) -> str:
    return f"{cents // 100:,}.{cents % 100:02d}"


def invoice() -> bytes:
    pdf = _pdf("Invoice INV-2026-0142")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 22)
    pdf.cell(0, 12, "INVOICE", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for line in SELLER:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.cell(0, 6, "Invoice number: INV-2026-0142", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, "Invoice date: 2 March 2026", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, "Due date: 1 April 2026", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 6, "Bill to:", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for line in BUYER:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)

    rows = [("Description", "Qty", "Unit price", "Amount")]
    subtotal = 0
    for description, quantity, price in LINE_ITEMS:
        amount = quantity * _cents(price)
        subtotal += amount
        rows.append((description, str(quantity), price, _euros(amount)))
    pdf.set_font("Helvetica", size=11)
    with pdf.table(
        col_widths=(90, 20, 35, 35),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=8,
    ) as table:
        for cells in rows:
            row = table.row()
            for cell in cells:
                row.cell(cell)

    vat = round(subtotal * VAT_RATE / 100)
    pdf.ln(4)
    for label, cents in [
        ("Subtotal", subtotal),
        (f"VAT {VAT_RATE}%", vat),
        ("Total due (EUR)", subtotal + vat),
    ]:
        pdf.set_font("Helvetica", "B" if label.startswith("Total") else "", 11)
        pdf.cell(145, 7, label, align="R")
        pdf.cell(35, 7, _euros(cents), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(
        0,
        5,
        "Payment within 30 days by bank transfer to IBAN IE29 AIBK 9311 5212 3456 78, "
        "quoting the invoice number. Thank you for your business.",
    )
    return bytes(pdf.output())


CONTRACT = [
    (
        "SOFTWARE SERVICES AGREEMENT",
        [
            "This Software Services Agreement is made on 2 March 2026 between Northwind "
            "Office Supplies Ltd., 14 Quay Street, Galway (the Client) and Brightwave "
            "Software Ltd., 7 Canal Walk, Dublin (the Provider).",
        ],
    ),
    (
        "1. Services",
        [
            "The Provider shall host, maintain and support the Client's online ordering "
            "system, including security updates, daily backups and a help desk available "
            "on working days from 9:00 to 17:30 Irish time.",
            "The Provider shall restore the system within four hours of a reported outage.",
        ],
    ),
    (
        "2. Term",
        [
            "This Agreement starts on 1 April 2026 and runs for an initial term of 24 "
            "months. It then renews automatically for further periods of 12 months unless "
            "terminated under section 5.",
        ],
    ),
    (
        "3. Fees and payment",
        [
            "The Client shall pay a monthly fee of EUR 4,500, excluding VAT.",
            "The fee is invoiced at the start of each month.",
            "Invoices are payable within 30 days. Late payments bear interest at 8 percent "
            "per year above the European Central Bank rate.",
            "The Provider may raise the monthly fee once a year, by no more than 3 percent, "
            "with 60 days written notice.",
        ],
    ),
    (
        "4. Confidentiality",
        [
            "Each party shall keep the other party's confidential information secret and "
            "use it only for this Agreement. This duty survives the end of the Agreement "
            "for five years.",
        ],
    ),
    (
        "5. Termination",
        [
            "Either party may terminate this Agreement by giving 90 days written notice.",
            "Such a notice ends the Agreement at the end of the initial term or of the renewal "
            "period in which it is given.",
            "Either party may terminate this Agreement at once by written notice if the "
            "other party commits a material breach and does not remedy it within 30 days.",
            "On termination the Provider shall return all of the Client's data within 14 "
            "days, in a common machine-readable format.",
        ],
    ),
    (
        "6. Liability",
        [
            "The total liability of the Provider under this Agreement in any year is limited "
            "to the fees paid by the Client in that year.",
        ],
    ),
    (
        "7. Governing law",
        [
            "This Agreement is governed by the laws of Ireland, and the courts of Dublin "
            "have exclusive jurisdiction.",
        ],
    ),
]
SIGNATURES = [
    "Signed for Northwind Office Supplies Ltd.: Aoife Brennan, Managing Director",
    "Signed for Brightwave Software Ltd.: Daniel Okafor, Chief Executive",
]


def contract() -> bytes:
    pdf = _pdf("Software Services Agreement")
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    # three pages: the parties and sections 1-3, sections 4-6, the rest and signatures
    breaks = {"4. Confidentiality", "7. Governing law"}
    for number, (heading, paragraphs) in enumerate(CONTRACT):
        if heading in breaks:
            pdf.add_page()
        pdf.set_font("Helvetica", "B", 16 if number == 0 else 13)
        pdf.multi_cell(0, 9, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_font("Helvetica", size=12)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 7, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        pdf.ln(4)
    pdf.ln(10)
    for line in SIGNATURES:
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(8)
    return bytes(pdf.output())


REPORT_TITLE = "Riverside Community Library: Annual Report 2025"
REPORT = [
    (
        "1. A year in numbers",
        "The library lent 48,210 books in 2025, eleven percent more than the year before. "
        "Visitors came through the doors 61,400 times, and 1,930 people joined as new members.",
    ),
    (
        "2. Opening hours",
        "From April the library opened on Sunday afternoons as well. The Sunday hours drew "
        "families above all, and the children's corner was full on most weekends.",
    ),
    (
        "3. Digital services",
        "Members borrowed 9,870 e-books and audio books. Twelve laptops can now be taken "
        "home for two weeks, and the waiting list for them was never empty.",
    ),
    (
        "4. Events",
        "The library held 214 events: author readings, homework clubs, a repair cafe on the "
        "first Saturday of each month and a summer reading challenge for 380 children.",
    ),
    (
        "5. Finances",
        "Income was 812,000 euros, of which the county council gave 690,000. Spending on "
        "new books and media rose to 131,000 euros, and the year closed with a small surplus.",
    ),
    (
        "6. Plans for 2026",
        "Next year the library will open a makerspace with two 3D printers, extend the "
        "homework clubs to Fridays and start lending musical instruments.",
    ),
]


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if font.getlength(candidate) <= width:
            line = candidate
        else:
            lines.append(line)
            line = word
    return [*lines, line]


def _scan(heading: str, body: str, footer: str) -> Image.Image:
    """An A4 page at :data:`DPI`, black on white, as a scanner gives it back."""
    width, height = round(8.27 * DPI), round(11.69 * DPI)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    margin = DPI
    small, text, big = (ImageFont.load_default(size=s) for s in (22, 28, 38))
    y = margin
    draw.text((margin, y), REPORT_TITLE, font=small, fill=0)
    y += 90
    draw.text((margin, y), heading, font=big, fill=0)
    y += 80
    for line in _wrap(body, text, width - 2 * margin):
        draw.text((margin, y), line, font=text, fill=0)
        y += 44
    draw.text((margin, height - margin), footer, font=small, fill=0)
    return page.convert("1", dither=Image.Dither.NONE)


def annual_report() -> bytes:
    pdf = _pdf(REPORT_TITLE)
    for number, (heading, body) in enumerate(REPORT, start=1):
        scan = _scan(heading, body, f"Page {number} of {len(REPORT)}")
        png = io.BytesIO()
        scan.save(png, format="PNG", optimize=True)
        pdf.add_page()
        pdf.image(png, x=0, y=0, w=pdf.w, h=pdf.h)
    return bytes(pdf.output())


SALES = [
    ["Region", "2022", "2023", "2024", "2025"],
    ["North", "1240", "1310", "1475", "1590"],
    ["South", "980", "1045", "1120", "1210"],
    ["East", "1530", "1490", "1610", "1720"],
    ["West", "870", "915", "990", "1060"],
]


def sales_table() -> bytes:
    font = ImageFont.load_default(size=34)
    left, top, cell_width, cell_height = 90, 180, 260, 72
    width = 2 * left + len(SALES[0]) * cell_width
    page = Image.new("L", (width, top + len(SALES) * cell_height + 120), 255)
    draw = ImageDraw.Draw(page)
    draw.text((left, 80), "Units sold by region", font=font, fill=0)
    for r, row in enumerate(SALES):
        for c, cell in enumerate(row):
            xy = (left + c * cell_width + 22, top + r * cell_height + 18)
            draw.text(xy, cell, font=font, fill=0)
    for r in range(len(SALES) + 1):
        y = top + r * cell_height
        draw.line([(left, y), (left + len(SALES[0]) * cell_width, y)], fill=0, width=3)
    for c in range(len(SALES[0]) + 1):
        x = left + c * cell_width
        draw.line([(x, top), (x, top + len(SALES) * cell_height)], fill=0, width=3)
    png = io.BytesIO()
    page.convert("1", dither=Image.Dither.NONE).save(
        png, format="PNG", optimize=True, dpi=(DPI, DPI)
    )
    return png.getvalue()


def main(folder: Path = HERE) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, make in [
        ("invoice.pdf", invoice),
        ("contract.pdf", contract),
        ("annual_report.pdf", annual_report),
        ("sales_table.png", sales_table),
    ]:
        path = folder / name
        path.write_bytes(make())
        print(f"{path.name}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
