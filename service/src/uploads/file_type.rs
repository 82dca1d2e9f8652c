//! A file's type from its content: the one table of the types the system
//! accepts and serves (MIME type and extension), the client's file name
//! rule, the polyglot check, and the name and type a stored file is served
//! with.

use crate::Error;
use crate::error::Refusal;
use crate::storage::Received;

/// A file type the system accepts, found from the file's first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileType {
    pub mime: &'static str,
    pub extension: &'static str,
}

pub const PDF: FileType = FileType {
    mime: "application/pdf",
    extension: "pdf",
};
pub const DOCX: FileType = FileType {
    mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    extension: "docx",
};
pub const XLSX: FileType = FileType {
    mime: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    extension: "xlsx",
};
const DOC: FileType = FileType {
    mime: "application/msword",
    extension: "doc",
};
const XLS: FileType = FileType {
    mime: "application/vnd.ms-excel",
    extension: "xls",
};

/// Checks a client's file name as production does: it must be what
/// werkzeug's `secure_filename` would keep (ASCII letters, digits, `.`, `_`,
/// `-`; no leading or trailing `.` or `_`). The name is only recorded: the
/// stored name is made by the server.
pub fn check_filename(name: &str) -> Result<(), Error> {
    let valid = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !name.starts_with(['.', '_'])
        && !name.ends_with(['.', '_']);
    if valid {
        Ok(())
    } else {
        Err(Refusal::FileName {
            name: name.to_owned(),
        }
        .into())
    }
}

/// The types accepted at upload: those the analysis reads. Legacy Word
/// `.doc` and Excel `.xls` files are recognised, and refused with the reason.
const ACCEPTED: [FileType; 3] = [PDF, DOCX, XLSX];

/// The type of a received file from its content (the declared type and the
/// name are ignored): PDF, Word or Excel, else a 400 that says why. The
/// first bytes tell most types; a ZIP package is Word or Excel when its
/// directory holds the main part of one (`word/document.xml`,
/// `xl/workbook.xml`), wherever the tool that wrote it put that entry. A
/// file that is also something a browser or Windows would run (a polyglot:
/// HTML, script or HTA content anywhere in its bytes) is refused.
pub async fn sniff(body: &Received) -> Result<FileType, Error> {
    let Some(found) = infer::get(&body.head) else {
        return Err(Refusal::UnknownFileType.into());
    };
    let Some(path) = body.path().map(std::path::Path::to_owned) else {
        return Err(Error::Internal(
            "the received file was already moved".into(),
        ));
    };
    let is_zip = matches!(
        found.extension(),
        "zip" | "docx" | "xlsx" | "pptx" | "epub" | "jar" | "odt" | "ods"
    );
    let (mime, active) = tokio::task::spawn_blocking(move || {
        let mime = if is_zip {
            office_package_type(&path)
        } else {
            found.mime_type()
        };
        (mime, active_content(&path))
    })
    .await
    .map_err(|e| Error::Internal(format!("type detection: {e}")))?;
    let Some(file_type) = ACCEPTED.into_iter().find(|t| t.mime == mime) else {
        // OLE storage is what legacy Office files are (Word, Excel, PowerPoint).
        let legacy = [DOC.mime, XLS.mime, "application/x-ole-storage"].contains(&mime);
        return Err(Refusal::FileType {
            mime: mime.to_owned(),
            legacy,
        }
        .into());
    };
    if let Some(marker) = active {
        return Err(Refusal::ActiveContent {
            mime: mime.to_owned(),
            marker: marker.to_string(),
        }
        .into());
    }
    Ok(file_type)
}

/// What makes a file runnable by a browser or by Windows' `mshta` besides
/// being a document: both look for these anywhere in the raw bytes, so a
/// PDF or an Office package carrying one is a polyglot. Office packages
/// compress their parts and escape `<` in text, and PDF text is in
/// content streams, so genuine documents do not carry them in the clear.
/// Each is six characters or more: random bytes (a compressed stream, a
/// picture stored as it is) hold a given one by chance about once in
/// 2^40 bytes, where a four-letter marker such as `<svg` would turn up in
/// one 50 MiB file in ten.
const ACTIVE_MARKERS: [&str; 6] = [
    "<script",
    "<hta:application",
    "<html>",
    "<html ",
    "<!doctype html",
    "<iframe",
];

/// The search for [`ACTIVE_MARKERS`], built once for every upload.
static ACTIVE_FINDER: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
    std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(ACTIVE_MARKERS)
            .ok()
    });

/// The first marker of [`ACTIVE_MARKERS`] found in the file (ASCII case
/// ignored), read as a stream: the file is never held whole.
fn active_content(path: &std::path::Path) -> Option<&'static str> {
    let finder = ACTIVE_FINDER.as_ref()?;
    let file = std::fs::File::open(path).ok()?;
    finder
        .stream_find_iter(std::io::BufReader::with_capacity(1 << 16, file))
        .next()
        .and_then(Result::ok)
        .map(|m| ACTIVE_MARKERS[m.pattern().as_usize()])
}

/// The extension a stored file is served with: the one the server gave it
/// from its sniffed type, or `bin` for anything else (rows made before
/// types were checked by content).
pub fn served_extension(stored_path: &str) -> &'static str {
    let ext = stored_path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    [PDF, DOCX, XLSX, DOC, XLS]
        .into_iter()
        .find(|t| t.extension == ext)
        .map_or("bin", |t| t.extension)
}

/// The MIME type served for an extension of [`served_extension`].
pub fn served_mime(extension: &str) -> &'static str {
    [PDF, DOCX, XLSX, DOC, XLS]
        .into_iter()
        .find(|t| t.extension == extension)
        .map_or("application/octet-stream", |t| t.mime)
}

/// The name a stored file is downloaded under: the client's name with the
/// extension the content earned (`prix.hta` holding a PDF is `prix.pdf`).
pub fn served_filename(client_filename: &str, stored_path: &str) -> String {
    let ext = served_extension(stored_path);
    let stem = match client_filename.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => client_filename,
    };
    format!("{stem}.{ext}")
}

/// The MIME type of a ZIP file by its entries: Word, Excel, or plain ZIP.
fn office_package_type(path: &std::path::Path) -> &'static str {
    let Ok(file) = std::fs::File::open(path) else {
        return "application/zip";
    };
    let Ok(archive) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return "application/zip";
    };
    let has = |name: &str| archive.file_names().any(|n| n.is_ok_and(|n| n == name));
    if has("word/document.xml") {
        DOCX.mime
    } else if has("xl/workbook.xml") {
        XLSX.mime
    } else {
        "application/zip"
    }
}
