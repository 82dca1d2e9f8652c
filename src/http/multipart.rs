//! Reading the upload forms of the API and of the pages (multipart: text
//! fields and one file); each caller words the refusals its own way.

use std::collections::HashMap;

use axum::extract::Multipart;
use axum::extract::multipart::Field;

use crate::Error;
use crate::storage::{ReceiveError, Received, Storage};

/// Why a text field could not be read.
#[derive(Debug)]
pub enum TextFieldError {
    /// The body is not well-formed multipart (the reason, for the client).
    Body(String),
    /// The field has more than the limit's bytes.
    TooLarge,
    /// The field is not UTF-8 text.
    NotUtf8,
}

/// The text of `field`, refused past `limit` bytes (counted as they come,
/// so a huge field is never held whole).
pub async fn read_text_field(mut field: Field<'_>, limit: usize) -> Result<String, TextFieldError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| TextFieldError::Body(e.body_text()))?
    {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > limit {
            return Err(TextFieldError::TooLarge);
        }
    }
    String::from_utf8(bytes).map_err(|_| TextFieldError::NotUtf8)
}

/// An upload form as received: its text fields and its one `file` part,
/// already streamed into the data directory's temporary area.
pub struct UploadForm {
    /// The client's file name and the received body.
    pub file: Option<(String, Received)>,
    pub fields: HashMap<String, String>,
}

/// Why an upload form could not be read; `R` is the caller's own refusal
/// of the file (see [`read_upload_form`]).
#[derive(Debug)]
pub enum FormError<R> {
    /// The body is not well-formed multipart (the reason, for the client).
    Body(String),
    /// A second `file` part.
    SecondFile,
    /// The file is larger than the limit.
    FileTooLarge,
    /// A text field is larger than its limit.
    FieldTooLarge,
    /// A text field is not UTF-8.
    FieldNotUtf8,
    /// The caller's check on the fields read before the file refused it.
    FileRefused(R),
    /// The file name is refused, or the server could not store the body.
    Error(Error),
}

/// Reads an upload form: text fields up to `field_limit` bytes each, and
/// one `file` part whose name is checked before a byte of it is stored and
/// whose body is streamed to a temporary file up to `file_limit` bytes.
/// `accept_file` sees the fields sent before the file and may refuse it
/// (the pages check their CSRF token there).
pub async fn read_upload_form<R>(
    data: &Storage,
    mut multipart: Multipart,
    field_limit: usize,
    file_limit: u64,
    accept_file: impl Fn(&HashMap<String, String>) -> Result<(), R>,
) -> Result<UploadForm, FormError<R>> {
    let mut form = UploadForm {
        file: None,
        fields: HashMap::new(),
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(FormError::Body(e.body_text())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            accept_file(&form.fields).map_err(FormError::FileRefused)?;
            if form.file.is_some() {
                return Err(FormError::SecondFile);
            }
            let filename = field.file_name().unwrap_or_default().to_owned();
            crate::uploads::check_filename(&filename).map_err(FormError::Error)?;
            let received = data.receive(field, file_limit).await.map_err(|e| match e {
                ReceiveError::TooLarge { .. } => FormError::FileTooLarge,
                ReceiveError::Body(reason) => FormError::Body(reason),
                ReceiveError::Server(e) => FormError::Error(e),
            })?;
            form.file = Some((filename, received));
        } else {
            let text = read_text_field(field, field_limit)
                .await
                .map_err(|e| match e {
                    TextFieldError::Body(reason) => FormError::Body(reason),
                    TextFieldError::TooLarge => FormError::FieldTooLarge,
                    TextFieldError::NotUtf8 => FormError::FieldNotUtf8,
                })?;
            form.fields.insert(name, text);
        }
    }
    Ok(form)
}
