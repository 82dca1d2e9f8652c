//! The parts of an Office package (Open Packaging Conventions, ECMA-376
//! part 2) that its content uses: those reachable from the package's root
//! relationships (`_rels/.rels`), following each reached part's own
//! relationships (`<dir>/_rels/<name>.rels`). A generated document keeps
//! only these, so a template that carries parts nothing refers to (old
//! media, custom XML left by editing tools) does not copy them into every
//! PV made from it.

use std::collections::{BTreeSet, VecDeque};

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::budget::Budget;
use crate::error::AnalysisError;

/// The package's content types, always kept (and rewritten by
/// [`content_types_for`]).
pub(crate) const CONTENT_TYPES: &str = "[Content_Types].xml";
const ROOT_RELS: &str = "_rels/.rels";

/// The names of the parts of the package in `bytes` reachable from its
/// root relationships, with the relationship parts that lead to them and
/// `[Content_Types].xml`. Relationships to external targets and to parts
/// the package lacks are ignored.
pub(crate) fn used_parts(
    filename: &str,
    bytes: &[u8],
    budget: &Budget,
) -> Result<BTreeSet<String>, AnalysisError> {
    let archive = crate::extract::open_zip(filename, bytes)?;
    let names: BTreeSet<String> = archive.file_names().map(str::to_owned).collect();
    let mut used = BTreeSet::new();
    used.insert(CONTENT_TYPES.to_owned());
    let mut queue = VecDeque::new();
    if names.contains(ROOT_RELS) {
        used.insert(ROOT_RELS.to_owned());
        queue.push_back((ROOT_RELS.to_owned(), String::new()));
    }
    while let Some((rels, base)) = queue.pop_front() {
        let xml = crate::extract::read_zip_entry(filename, bytes, &rels, budget)?;
        for target in internal_targets(&xml)
            .map_err(|e| AnalysisError::corrupt(filename, format!("{rels}: {e}")))?
        {
            let part = resolve(&base, &target);
            if !names.contains(&part) || !used.insert(part.clone()) {
                continue;
            }
            let (dir, file) = part.rsplit_once('/').unwrap_or(("", part.as_str()));
            let part_rels = if dir.is_empty() {
                format!("_rels/{file}.rels")
            } else {
                format!("{dir}/_rels/{file}.rels")
            };
            if names.contains(&part_rels) && used.insert(part_rels.clone()) {
                queue.push_back((part_rels, dir.to_owned()));
            }
        }
    }
    Ok(used)
}

/// The targets of the relationships in a `.rels` part, but external ones.
fn internal_targets(xml: &[u8]) -> Result<Vec<String>, quick_xml::Error> {
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut targets = Vec::new();
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"Relationship" => {
                let mut target = None;
                let mut external = false;
                for attr in e.attributes().flatten() {
                    match attr.key.local_name().as_ref() {
                        b"Target" => {
                            target = Some(attr.unescape_value()?.into_owned());
                        }
                        b"TargetMode" => {
                            external = attr.unescape_value()?.eq_ignore_ascii_case("External");
                        }
                        _ => {}
                    }
                }
                if let Some(t) = target.filter(|_| !external) {
                    targets.push(t);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(targets)
}

/// A relationship's target as a part name: relative to the source part's
/// folder `base`, or to the package root when it starts with `/`; `.` and
/// `..` segments resolved, a fragment or query dropped.
fn resolve(base: &str, target: &str) -> String {
    let target = target.split(['#', '?']).next().unwrap_or("");
    let (start, rest) = match target.strip_prefix('/') {
        Some(absolute) => ("", absolute),
        None => (base, target),
    };
    let mut segments: Vec<&str> = start.split('/').filter(|s| !s.is_empty()).collect();
    for segment in rest.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    segments.join("/")
}

/// `[Content_Types].xml` without the overrides of parts that were left
/// out (a package must not name parts it lacks).
pub(crate) fn content_types_for(
    xml: &[u8],
    kept: &BTreeSet<String>,
) -> Result<Vec<u8>, quick_xml::Error> {
    let mut reader = Reader::from_reader(xml);
    let mut writer = quick_xml::Writer::new(Vec::with_capacity(xml.len()));
    let mut buf = Vec::new();
    let mut skipping = 0usize;
    loop {
        let event = reader.read_event_into(&mut buf)?;
        let left_out = |e: &quick_xml::events::BytesStart<'_>| {
            e.local_name().as_ref() == b"Override"
                && e.attributes().flatten().any(|a| {
                    a.key.local_name().as_ref() == b"PartName"
                        && a.unescape_value()
                            .is_ok_and(|v| !kept.contains(v.trim_start_matches('/')))
                })
        };
        match &event {
            Event::Eof => break,
            Event::Empty(e) if skipping == 0 && left_out(e) => {}
            Event::Start(e) if skipping > 0 || left_out(e) => skipping += 1,
            Event::End(_) if skipping > 0 => skipping -= 1,
            _ if skipping > 0 => {}
            _ => writer.write_event(event.borrow())?,
        }
        buf.clear();
    }
    Ok(writer.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_resolve_as_part_names() {
        assert_eq!(resolve("", "word/document.xml"), "word/document.xml");
        assert_eq!(resolve("word", "styles.xml"), "word/styles.xml");
        assert_eq!(
            resolve("word", "../customXml/item1.xml"),
            "customXml/item1.xml"
        );
        assert_eq!(resolve("word", "/word/media/a.png"), "word/media/a.png");
        assert_eq!(resolve("word", "./media/a.png#x"), "word/media/a.png");
    }

    #[test]
    fn external_targets_are_not_parts() {
        let xml = br#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r1" Type="t" Target="styles.xml"/><Relationship Id="r2" Type="h" Target="https://example.org/" TargetMode="External"/></Relationships>"#;
        assert_eq!(internal_targets(xml).unwrap(), vec!["styles.xml"]);
    }

    #[test]
    fn overrides_of_left_out_parts_go() {
        let xml = br#"<?xml version="1.0"?><Types xmlns="x"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="a"/><Override PartName="/word/media/unused.bin" ContentType="b"/></Types>"#;
        let kept: BTreeSet<String> = ["word/document.xml".to_owned()].into();
        let out = String::from_utf8(content_types_for(xml, &kept).unwrap()).unwrap();
        assert!(out.contains("/word/document.xml"), "{out}");
        assert!(!out.contains("unused"), "{out}");
        assert!(out.contains("<Default Extension=\"xml\""), "{out}");
    }
}
