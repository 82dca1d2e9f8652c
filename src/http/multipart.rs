//! Reading the text fields of a multipart form (the upload forms of the API
//! and of the pages); each caller words the refusals its own way.

use axum::extract::multipart::Field;

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
