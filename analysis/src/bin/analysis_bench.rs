//! Benchmark of one analysis run: a 40-page DAO and 12 offer documents
//! (PDF, Word, Excel) with both templates.
//!
//! `analysis-bench generate DIR` writes the case's files into DIR;
//! `analysis-bench run DIR` analyses them and writes the CBA and the PV into
//! DIR/out (the Python yardstick, scripts/analysis_yardstick.py, does the
//! same work with pypdf, python-docx and openpyxl). It reads the first
//! `dao.*` file of DIR as the DAO, and prints the documents listed for manual
//! reading and its peak memory (`VmHWM`), which the bomb tests read.

use std::path::Path;
use std::process::ExitCode;

use analysis::{CaseInfo, Content, OfferDoc, RunInput, SourceDoc, TemplateDoc, fixtures};

const SUPPLIERS: [&str; 4] = ["ALPHA SARL", "BETA SERVICES", "GAMMA TRADING", "DELTA BTP"];
const DAO_PAGES: usize = 40;

fn offer_files(i: usize, name: &str) -> [(String, Vec<u8>); 3] {
    let slug = name.split_whitespace().next().unwrap_or("x").to_lowercase();
    let tech_pages: Vec<Vec<String>> = (1..=3)
        .map(|p| {
            let mut lines = vec![
                format!("PROPOSITION TECHNIQUE — {name}"),
                format!("Fournisseur : {name}"),
                "Caractéristiques techniques conformes au cahier des charges.".to_string(),
                format!("Référence : Projet fournitures scolaires région {p} année 202{i}"),
            ];
            lines.extend((1..=40).map(|l| {
                format!("{p}.{l} Expérience et moyens techniques mobilisés pour le lot, équipe de {l} personnes.")
            }));
            lines
        })
        .collect();
    let admin = format!(
        "DOCUMENTS ADMINISTRATIFS\nSociété : {name}\nAttestation de régularité fiscale\nRCCM : ML-BKO-2019-B-{i}{i}{i}\n{}",
        (1..=60)
            .map(|l| format!("Pièce {l} : attestation jointe et certifiée conforme."))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let mut rows: Vec<Vec<String>> = vec![vec![
        "Désignation".into(),
        "Quantité".into(),
        "Prix unitaire".into(),
        "Montant".into(),
    ]];
    let mut total = 0u64;
    for l in 1..=80u64 {
        let unit = 500 + 25 * l + 100 * i as u64;
        total += unit * 100;
        rows.push(vec![
            format!("Article {l}"),
            "100".into(),
            unit.to_string(),
            (unit * 100).to_string(),
        ]);
    }
    rows.push(vec![
        "Prix total".into(),
        String::new(),
        String::new(),
        format!("{total} FCFA"),
    ]);
    rows.push(vec![
        "Délai de livraison".into(),
        format!("{} jours", 20 + 5 * i),
    ]);
    rows.push(vec!["Validité de l'offre".into(), "90 jours".into()]);
    [
        (format!("{slug}_technique.pdf"), fixtures::pdf(&tech_pages)),
        (format!("{slug}_admin.docx"), fixtures::docx(&admin, &[])),
        (
            format!("{slug}_prix.xlsx"),
            fixtures::xlsx("Bordereau", &rows),
        ),
    ]
}

fn generate(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("offers"))?;
    std::fs::write(dir.join("dao.pdf"), fixtures::dao_pdf_pages(DAO_PAGES))?;
    std::fs::write(dir.join("cba_template.xlsx"), fixtures::cba_template_xlsx())?;
    std::fs::write(dir.join("pv_template.docx"), fixtures::pv_template_docx())?;
    for (i, name) in SUPPLIERS.iter().enumerate() {
        for (file, bytes) in offer_files(i, name) {
            std::fs::write(dir.join("offers").join(file), bytes)?;
        }
    }
    Ok(())
}

fn supplier_of(file: &str) -> Option<String> {
    let slug = file.split('_').next()?;
    SUPPLIERS
        .iter()
        .find(|s| s.to_lowercase().starts_with(slug))
        .map(|s| s.to_string())
}

fn analyse(dir: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("offers"))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut offers = Vec::new();
    for (i, name) in names.iter().enumerate() {
        offers.push(OfferDoc {
            artifact_id: format!("offer-{i}"),
            filename: name.clone(),
            supplier_name: supplier_of(name),
            offer_type: None,
            uploaded_at: format!("2026-11-2{}T10:00:{:02}", i / 6, i),
            content: Content::File(dir.join("offers").join(name)),
        });
    }
    let mut daos: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("dao."))
        .collect();
    daos.sort();
    let dao = daos.into_iter().next().ok_or("no dao.* file")?;
    let input = RunInput {
        case: CaseInfo {
            id: "bench-case".into(),
            title: "Benchmark".into(),
            reference: Some("DAO-BENCH".into()),
            case_type: "DAO".into(),
            lot: None,
            opening_date: None,
            committee: Vec::new(),
            language: analysis::Language::Fr,
            ledger: None,
        },
        dao: SourceDoc {
            artifact_id: "dao".into(),
            content: Content::File(dir.join(&dao)),
            filename: dao,
        },
        offers,
        cba_template: Some(TemplateDoc {
            filename: "cba_template.xlsx".into(),
            bytes: std::fs::read(dir.join("cba_template.xlsx"))?,
        }),
        pv_template: Some(TemplateDoc {
            filename: "pv_template.docx".into(),
            bytes: std::fs::read(dir.join("pv_template.docx"))?,
        }),
        generated_at: "2026-11-25T12:00:00".into(),
    };
    let out = analysis::run(&input)?;
    std::fs::create_dir_all(dir.join("out"))?;
    std::fs::write(dir.join("out").join("cba.xlsx"), &out.cba.bytes)?;
    std::fs::write(dir.join("out").join("pv.docx"), &out.pv.bytes)?;
    let reviews: Vec<String> = out
        .summary
        .warnings
        .manual_review_documents
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r.filename,
                serde_json::json!(r.cause).as_str().unwrap_or("?")
            )
        })
        .collect();
    Ok(format!(
        "criteria={} documents={} packages={} cba_bytes={} pv_bytes={} manual_review={} peak_rss_kib={}",
        out.criteria.len(),
        out.extractions.len(),
        out.packages.len(),
        out.cba.bytes.len(),
        out.pv.bytes.len(),
        reviews.join(","),
        peak_rss_kib().map_or_else(|| "unknown".to_string(), |k| k.to_string()),
    ))
}

/// This process's peak resident memory (`VmHWM`, Linux), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let result = match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("generate"), Some(dir)) => generate(Path::new(dir))
            .map(|()| format!("generated {dir}"))
            .map_err(Into::into),
        (Some("run"), Some(dir)) => analyse(Path::new(dir)),
        _ => Err("usage: analysis-bench generate DIR | analysis-bench run DIR".into()),
    };
    match result {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e} (run `analysis-bench generate DIR` first)");
            ExitCode::FAILURE
        }
    }
}
