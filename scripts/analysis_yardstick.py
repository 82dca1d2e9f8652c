#!/usr/bin/env python3
"""Yardstick for the analysis benchmark: the same work as `analysis-bench run DIR`
(text extraction, criteria and field rules, CBA template filled, PV written) done
the way production does it, with pypdf, python-docx and openpyxl.

    pip install pypdf python-docx openpyxl
    python3 scripts/analysis_yardstick.py DIR    # DIR made by `analysis-bench generate DIR`
"""
import os
import re
import sys

from docx import Document
from docx.enum.text import WD_BREAK
from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from pypdf import PdfReader


def pdf_text(path):
    blocks = []
    for i, page in enumerate(PdfReader(path).pages, 1):
        t = (page.extract_text() or "").strip()
        if t:
            blocks.append(f"[PAGE {i}]\n{t}\n")
    return "\n".join(blocks).strip()


def docx_text(path):
    d = Document(path)
    lines = [p.text.strip() for p in d.paragraphs if p.text.strip()]
    for table in d.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                lines.append(" | ".join(cells))
    return "\n".join(lines)


def xlsx_text(path):
    wb = load_workbook(path, read_only=True, data_only=True)
    lines = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            cells = [str(c).strip() for c in row if c is not None and str(c).strip()]
            if cells:
                lines.append(" | ".join(cells))
    return "\n".join(lines)


def text_of(path):
    ext = os.path.splitext(path)[1].lower()
    return {".pdf": pdf_text, ".docx": docx_text, ".xlsx": xlsx_text}[ext](path)


ESSENTIAL = re.compile(r"critères?\s+essentiels?|mandatory\s+requirements?|conformité\s+(administrative|documents?)|documents?\s+obligatoires?", re.I)
WEIGHTED = re.compile(r"([\w\s\-']+?)\s*[:(]\s*(\d{1,4})\s*(%|points?\b)", re.I)


def criteria(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not 5 <= len(line) <= 250:
            continue
        m = WEIGHTED.search(line)
        if m and m.group(1).strip().lower() != "total":
            out.append({"categorie": "commercial" if re.search("prix|montant", m.group(1), re.I) else "technique",
                        "critere_nom": m.group(1).strip(), "ponderation": int(m.group(2)) / 100})
        elif ESSENTIAL.search(line):
            out.append({"categorie": "essentiels", "critere_nom": line[:120], "ponderation": 0.0})
    return out


AMOUNT = r"\d{1,3}(?:[ .,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
PRICE = re.compile(rf"(prix\s+total|montant\s+total|total)[\s:|]*({AMOUNT})[\s|]*(FCFA|CFA|XOF)", re.I)
LEAD = re.compile(r"(délai\s+de\s+livraison|lead\s+time)[\s:|\-]*(\d{1,3})\s*(jours?|days?)", re.I)
VALID = re.compile(r"(validité\s+(?:de\s+l['’]\s*)?offre)[\s:|\-]*(\d{1,3})\s*(jours?|days?)", re.I)
REFS = re.compile(r"(référence|client|projet|contrat)s?[ \t]*:[ \t]*([\w \t\-']{10,100})", re.I)


def fields(text):
    price = PRICE.search(text)
    lead = LEAD.search(text)
    valid = VALID.search(text)
    return {
        "total_price": f"{price.group(2)} {price.group(3)}" if price else None,
        "lead_time_days": int(lead.group(2)) if lead else None,
        "validity_days": int(valid.group(2)) if valid else None,
        "technical_refs": [m.group(2).strip() for m in REFS.finditer(text)][:5],
        "fin": bool(re.search(r"\b(prix|montant|fcfa)\b", text, re.I)),
        "tech": bool(re.search(r"\b(technique|expérience)\b", text, re.I)),
        "admin": bool(re.search(r"\b(attestation|rccm)\b", text, re.I)),
    }


SUPPLIERS = ["ALPHA SARL", "BETA SERVICES", "GAMMA TRADING", "DELTA BTP"]


def main(d):
    crit = criteria(text_of(os.path.join(d, "dao.pdf")))
    packages = {}
    for name in sorted(os.listdir(os.path.join(d, "offers"))):
        supplier = next(s for s in SUPPLIERS if s.lower().startswith(name.split("_")[0]))
        f = fields(text_of(os.path.join(d, "offers", name)))
        p = packages.setdefault(supplier, {"supplier_name": supplier, "technical_refs": []})
        for k in ("total_price", "lead_time_days", "validity_days"):
            p.setdefault(k, None)
            if p[k] is None:
                p[k] = f[k]
        for k in ("fin", "tech", "admin"):
            p[k] = p.get(k, False) or f[k]
        p["technical_refs"] += [r for r in f["technical_refs"] if r not in p["technical_refs"]]
    packages = list(packages.values())

    out = os.path.join(d, "out_py")
    os.makedirs(out, exist_ok=True)
    # CBA: fill the template (production's §7.8 shape).
    wb = load_workbook(os.path.join(d, "cba_template.xlsx"))
    ws = wb.active
    orange = PatternFill(start_color="FFC000", end_color="FFC000", fill_type="solid")
    cols = [3, 4, 5, 6]
    for col, p in zip(cols, packages):
        ws.cell(row=6, column=col, value=p["supplier_name"])
        for row in range(7, 12):
            label = str(ws.cell(row=row, column=2).value or "").lower()
            value = None
            if "prix" in label:
                value = p["total_price"]
            elif "délai" in label:
                value = p["lead_time_days"] and f"{p['lead_time_days']} jours"
            elif "validité" in label:
                value = p["validity_days"] and f"{p['validity_days']} jours"
            elif "référence" in label:
                value = ", ".join(p["technical_refs"][:3])
            else:
                continue
            c = ws.cell(row=row, column=col, value=value or "REVUE MANUELLE")
            if value:
                c.comment = Comment("Source: Pattern", "DMS")
            else:
                c.fill = orange
    wb.save(os.path.join(out, "cba.xlsx"))

    # PV: placeholders replaced paragraph by paragraph, summary appended.
    doc = Document(os.path.join(d, "pv_template.docx"))
    lines = [f"- {p['supplier_name']} | Prix: {p['total_price'] or 'N/A'} | Délai: {p['lead_time_days'] or 'N/A'}j"
             for p in packages]
    values = {"{{CASE_ID}}": "bench-case", "{{CASE_TITLE}}": "Benchmark", "{{GENERATED_AT}}": "2026-11-25T12:00:00",
              "{{SUPPLIERS_TABLE}}": "\n".join(lines), "{{CRITERIA_COUNT}}": str(len(crit)),
              "{{OFFERS_COUNT}}": str(len(packages)), "{{CHOSEN_SUPPLIER}}": "NON DÉCIDÉ",
              "{{DECISION_REASON}}": "", "{{NEXT_ACTION}}": ""}
    for para in doc.paragraphs:
        if "{{" in para.text:
            t = para.text
            for k, v in values.items():
                t = t.replace(k, v)
            para.text = t
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.add_heading("RÉSUMÉ AUTO-EXTRAIT (à valider)", level=2)
    doc.add_heading("Critères DAO", level=3)
    for c in crit:
        doc.add_paragraph(f"• {c['critere_nom']} ({c['categorie']})")
    doc.add_heading("Offres reçues", level=3)
    for line in lines:
        doc.add_paragraph(line)
    doc.save(os.path.join(out, "pv.docx"))
    print(f"criteria={len(crit)} documents={len(os.listdir(os.path.join(d, 'offers')))} packages={len(packages)}")


if __name__ == "__main__":
    main(sys.argv[1])
