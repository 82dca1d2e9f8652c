//! Real fixture documents, generated (no binary file in the repository):
//! a DAO in `.docx` and `.pdf`, offers of three suppliers split into
//! technical, financial and administrative parts (one without a price, one
//! price schedule in `.xlsx`), a CBA template and a PV template whose
//! placeholder is split across runs. Enabled by the `fixtures` feature so the
//! server's HTTP tests upload the very same files.

use std::io::Cursor;

pub mod bombs;

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, StringFormat, dictionary};

use crate::docx_write::{DocxBuilder, Run};
use crate::input::{CaseInfo, OfferDoc, RunInput, SourceDoc, TemplateDoc};

/// A PDF with one page per entry of `pages`, each line a text line
/// (Helvetica, WinAnsi encoding: French accents are kept).
pub fn pdf(pages: &[Vec<String>]) -> Vec<u8> {
    let contents = pages
        .iter()
        .map(|lines| {
            let mut ops = Vec::new();
            for (n, line) in lines.iter().enumerate() {
                let y = 800 - 14 * n as i64;
                ops.push(Operation::new("BT", vec![]));
                ops.push(Operation::new("Tf", vec!["F1".into(), 10.into()]));
                ops.push(Operation::new("Td", vec![50.into(), y.into()]));
                ops.push(Operation::new(
                    "Tj",
                    vec![Object::String(win_ansi(line), StringFormat::Literal)],
                ));
                ops.push(Operation::new("ET", vec![]));
            }
            Content { operations: ops }.encode().unwrap_or_default()
        })
        .collect();
    pdf_from_contents(contents)
}

/// A PDF with one page per raw content stream, the font `F1` (Helvetica,
/// WinAnsi) in its resources: for drawing text as other producers do, or
/// for hostile content.
pub fn pdf_from_contents(contents: Vec<Vec<u8>>) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids = Vec::new();
    for content in contents {
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        });
        kids.push(Object::from(page_id));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources_id,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    let _ = doc.save_to(&mut out);
    out
}

fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '€' => 0x80,
            '’' => 0x92,
            '—' => 0x97,
            '–' => 0x96,
            c if (c as u32) < 256 => c as u8,
            _ => b'?',
        })
        .collect()
}

/// A one-page PDF with no text layer (as a scan without OCR).
pub fn scanned_pdf() -> Vec<u8> {
    pdf(&[Vec::new()])
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// A `.docx` made of paragraphs (one per line) and an optional table.
pub fn docx(paragraphs: &str, table: &[Vec<String>]) -> Vec<u8> {
    let mut b = DocxBuilder::new();
    for p in lines(paragraphs) {
        b.para(&p);
    }
    if !table.is_empty() {
        b.table(table);
    }
    b.finish().unwrap_or_default()
}

/// A `.docx` whose paragraphs are given as runs of (text, bold): for
/// templates whose placeholders Word split across runs.
pub fn docx_runs(paragraphs: &[Vec<(&str, bool)>]) -> Vec<u8> {
    let mut b = DocxBuilder::new();
    for runs in paragraphs {
        let runs: Vec<Run> = runs
            .iter()
            .map(|(text, bold)| Run {
                text: text.to_string(),
                bold: *bold,
                ..Run::default()
            })
            .collect();
        b.runs(&runs);
    }
    b.finish().unwrap_or_default()
}

/// An `.xlsx` with one sheet of rows (numbers written as numbers).
pub fn xlsx(sheet: &str, rows: &[Vec<String>]) -> Vec<u8> {
    let mut book = umya_spreadsheet::new_file();
    let _ = book.set_sheet_name(0, sheet);
    if let Some(s) = book.get_sheet_mut(&0) {
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let cell = s.get_cell_mut((c as u32 + 1, r as u32 + 1));
                match v.parse::<f64>() {
                    Ok(n) => {
                        cell.set_value_number(n);
                    }
                    Err(_) => {
                        cell.set_value_string(v.as_str());
                    }
                }
            }
        }
    }
    let mut out = Cursor::new(Vec::new());
    let _ = umya_spreadsheet::writer::xlsx::write_writer(&book, &mut out);
    out.into_inner()
}

/// The DAO's text: two essential criteria, weighted criteria in points
/// (30 + 50 + 20 = 100) and a "Total" line that is not a criterion.
pub const DAO_TEXT: &str = "DOSSIER D'APPEL D'OFFRES N° DAO-2026-014
Fourniture de kits scolaires — Région de Mopti
Critères essentiels : registre de commerce et attestation fiscale à jour
Documents obligatoires : caution de soumission
Grille d'évaluation
Prix de l'offre (30 points)
Capacité technique et expérience (50 points)
Durabilité et environnement (20 points)
Total : 100 points
Les offres sont valables 90 jours.";

/// The same DAO with weights in percent (one criterion per line).
pub const DAO_TEXT_PERCENT: &str = "DOSSIER D'APPEL D'OFFRES N° DAO-2026-015
Critères essentiels : attestation fiscale
Prix : 40%
Capacité technique : 45%
Durabilité : 15%";

pub fn dao_docx() -> Vec<u8> {
    docx(DAO_TEXT, &[])
}

pub fn dao_pdf() -> Vec<u8> {
    pdf(&[lines(DAO_TEXT)])
}

/// A DAO of `pages` pages (the criteria on the first, filler text after).
pub fn dao_pdf_pages(pages: usize) -> Vec<u8> {
    let mut all = vec![lines(DAO_TEXT)];
    for p in 1..pages {
        all.push(
            (1..=50)
                .map(|l| {
                    format!(
                        "Article {p}.{l} — Les soumissionnaires fournissent les pièces prévues au présent dossier, section {p}."
                    )
                })
                .collect(),
        );
    }
    pdf(&all)
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// One offer document of the fixture case.
pub struct FixtureOffer {
    pub filename: &'static str,
    pub supplier_name: &'static str,
    pub offer_type: &'static str,
    pub bytes: Vec<u8>,
}

/// The offers: ALPHA SARL (complete, prices as `2.000.000 FCFA`), BETA
/// SERVICES (technical PDF, price schedule in `.xlsx`, no admin part),
/// GAMMA TRADING (financial part without a price, admin part).
pub fn offers() -> Vec<FixtureOffer> {
    vec![
        FixtureOffer {
            filename: "alpha_technique.docx",
            supplier_name: "ALPHA SARL",
            offer_type: "technique",
            bytes: docx(
                "OFFRE TECHNIQUE
                Société : ALPHA SARL
                Caractéristiques techniques des kits conformes au cahier des charges.
                Référence : Projet kits scolaires UNICEF Mopti 2024
                Client : Direction régionale de l'éducation de Ségou",
                &[
                    row(&["Article", "Spécification"]),
                    row(&["Cartable", "Polyester 600D"]),
                ],
            ),
        },
        FixtureOffer {
            filename: "alpha_financiere.pdf",
            supplier_name: "ALPHA SARL",
            offer_type: "financiere",
            bytes: pdf(&[lines(
                "OFFRE FINANCIÈRE
                Bordereau des prix
                Cartables : 500.000 FCFA
                Montant total TTC : 2.000.000 FCFA
                Délai de livraison : 30 jours
                Validité de l'offre : 90 jours",
            )]),
        },
        FixtureOffer {
            filename: "alpha_admin.docx",
            supplier_name: "ALPHA SARL",
            offer_type: "administrative",
            bytes: docx(
                "DOCUMENTS ADMINISTRATIFS
                Attestation de régularité fiscale
                RCCM : ML-BKO-2019-B-1234",
                &[],
            ),
        },
        FixtureOffer {
            filename: "beta_technique.pdf",
            supplier_name: "BETA SERVICES",
            offer_type: "technique",
            bytes: pdf(&[
                lines(
                    "PROPOSITION TECHNIQUE
                    Fournisseur : BETA SERVICES
                    Expérience : 8 ans dans la fourniture scolaire",
                ),
                lines("Référence : Contrat fournitures Plan International 2023"),
            ]),
        },
        FixtureOffer {
            filename: "beta_bordereau_prix.xlsx",
            supplier_name: "BETA SERVICES",
            offer_type: "financiere",
            bytes: xlsx(
                "Bordereau",
                &[
                    row(&["Désignation", "Quantité", "Prix unitaire", "Montant"]),
                    row(&["Cartable", "1000", "1250", "1250000"]),
                    row(&["Trousse", "1000", "500,50", "500500"]),
                    row(&["Prix total", "", "", "1 750 500,50 FCFA"]),
                    row(&["Délai de livraison", "45 jours"]),
                    row(&["Validité de l'offre", "60 jours"]),
                ],
            ),
        },
        FixtureOffer {
            filename: "gamma_financiere.docx",
            supplier_name: "GAMMA TRADING",
            offer_type: "financiere",
            bytes: docx(
                "OFFRE FINANCIÈRE
                Soumissionnaire : GAMMA TRADING
                Offre de prix : voir bordereau joint (non fourni)
                Délai de livraison : 21 jours",
                &[],
            ),
        },
        FixtureOffer {
            filename: "gamma_admin.pdf",
            supplier_name: "GAMMA TRADING",
            offer_type: "administrative",
            bytes: pdf(&[lines(
                "DOCUMENTS ADMINISTRATIFS
                Attestation fiscale et quitus fiscal
                NIF : 084512367K",
            )]),
        },
    ]
}

/// A CBA template: the label column B carries the header text
/// "Critères / Soumissionnaires" (D-30), two supplier slots for three
/// suppliers, an organisation banner in A1:A4, a formula, a comment, and the
/// sheets "Template" and "Notes" (D-31).
pub fn cba_template_xlsx() -> Vec<u8> {
    let mut book = umya_spreadsheet::new_file();
    let _ = book.set_sheet_name(0, "CBA");
    if let Some(s) = book.get_sheet_mut(&0) {
        s.get_cell_mut("A1")
            .set_value_string("ONG Sahel Education — Modèle CBA v3");
        s.get_cell_mut("A2").set_value_string("Comité d'évaluation");
        s.get_cell_mut("A3")
            .set_value_string("Ne pas modifier la structure");
        s.get_cell_mut("A4").set_value_string("Confidentiel");
        s.get_cell_mut("B5")
            .set_value_string("Critères / Soumissionnaires");
        s.get_cell_mut("C5").set_value_string("Soumissionnaire 1");
        s.get_cell_mut("D5").set_value_string("Soumissionnaire 2");
        for c in ["B5", "C5", "D5"] {
            let style = s.get_style_mut(c);
            style.get_font_mut().set_bold(true);
            style.set_background_color("FFD9E1F2");
        }
        s.get_cell_mut("B6").set_value_string("Nom");
        let labels = [
            "Prix total de l'offre",
            "Délai de livraison",
            "Validité de l'offre",
            "Références techniques",
            "Capacité technique (note du comité)",
        ];
        for (i, l) in labels.iter().enumerate() {
            s.get_cell_mut((2, 7 + i as u32)).set_value_string(*l);
        }
        s.get_cell_mut("H1").set_formula("SUM(1,2)");
        let mut comment = umya_spreadsheet::Comment::default();
        comment.new_comment("B7");
        comment.set_author("Comité");
        comment.set_text_string("Prix TTC en FCFA");
        s.add_comments(comment);
    }
    if let Ok(t) = book.new_sheet("Template") {
        t.get_cell_mut("A1").set_value_string("Gabarit de saisie");
    }
    if let Ok(n) = book.new_sheet("Notes") {
        n.get_cell_mut("A1").set_value_string("Notes du comité");
    }
    let mut out = Cursor::new(Vec::new());
    let _ = umya_spreadsheet::writer::xlsx::write_writer(&book, &mut out);
    out.into_inner()
}

/// A CBA template without any supplier header (D-04).
pub fn cba_template_without_header() -> Vec<u8> {
    xlsx(
        "Feuil1",
        &[row(&["Titre", "Grille libre"]), row(&["", "Prix total"])],
    )
}

/// A PV template: `{{CASE_TITLE}}` split over two runs with different
/// formatting (D-32), the supplier table and decision placeholders, and a
/// blank last paragraph (so the summary is appended).
pub fn pv_template_docx() -> Vec<u8> {
    let mut b = DocxBuilder::new();
    b.heading(1, "PROCÈS-VERBAL D'ANALYSE DES OFFRES");
    b.runs(&[
        Run::plain("Marché : "),
        Run {
            text: "{{CASE_".to_string(),
            bold: true,
            ..Run::default()
        },
        Run {
            text: "TITLE}}".to_string(),
            italic: true,
            ..Run::default()
        },
        Run::plain(" (réf. {{CASE_ID}})"),
    ]);
    b.para("Nombre d'offres : {{OFFERS_COUNT}} — critères : {{CRITERIA_COUNT}}");
    b.para("{{SUPPLIERS_TABLE}}");
    b.runs(&[
        Run::plain("Fournisseur retenu : "),
        Run {
            text: "{{CHOSEN_SUPPLIER}}".to_string(),
            bold: true,
            color: Some("C00000".to_string()),
            ..Run::default()
        },
    ]);
    b.para("Motif : {{DECISION_REASON}}");
    b.para("Suite : {{NEXT_ACTION}}");
    b.table(&[row(&["Généré le", "{{GENERATED_AT}}"])]);
    b.runs(&[
        Run::plain("Empreinte du registre : {{LEDGER_FINGERPRINT}} "),
        Run {
            text: "{{LEDGER_HASH}}".to_string(),
            small: true,
            ..Run::default()
        },
    ]);
    b.blank();
    b.finish().unwrap_or_default()
}

/// A PV template with an empty body (D-05).
pub fn empty_pv_template() -> Vec<u8> {
    crate::docx_write::package(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body></w:body></w:document>",
    )
    .unwrap_or_default()
}

/// The fixture case.
pub fn case() -> CaseInfo {
    CaseInfo {
        id: "case-fixture-001".to_string(),
        title: "Kits scolaires Mopti".to_string(),
        reference: Some("DAO-2026-014".to_string()),
        case_type: "DAO".to_string(),
        lot: None,
        opening_date: Some("2026-11-20T09:00:00".to_string()),
        committee: Vec::new(),
        language: crate::Language::Fr,
        ledger: None,
    }
}

/// A complete run input: the DAO (`.docx` or `.pdf`), the seven offer
/// documents with the supplier names given at upload, and both templates.
pub fn run_input(dao_as_pdf: bool, with_templates: bool) -> RunInput {
    let dao = if dao_as_pdf {
        SourceDoc {
            artifact_id: "dao-1".to_string(),
            filename: "dao_kits_scolaires.pdf".to_string(),
            content: dao_pdf().into(),
        }
    } else {
        SourceDoc {
            artifact_id: "dao-1".to_string(),
            filename: "dao_kits_scolaires.docx".to_string(),
            content: dao_docx().into(),
        }
    };
    let offers = offers()
        .into_iter()
        .enumerate()
        .map(|(i, o)| OfferDoc {
            artifact_id: format!("offer-{}", i + 1),
            filename: o.filename.to_string(),
            supplier_name: Some(o.supplier_name.to_string()),
            offer_type: Some(o.offer_type.to_string()),
            uploaded_at: format!("2026-11-2{}T10:{:02}:00", 1 + i / 3, i * 5),
            content: o.bytes.into(),
        })
        .collect();
    RunInput {
        case: case(),
        dao,
        offers,
        cba_template: with_templates.then(|| TemplateDoc {
            filename: "modele_cba.xlsx".to_string(),
            bytes: cba_template_xlsx(),
        }),
        pv_template: with_templates.then(|| TemplateDoc {
            filename: "modele_pv.docx".to_string(),
            bytes: pv_template_docx(),
        }),
        generated_at: "2026-11-25T12:00:00".to_string(),
    }
}
