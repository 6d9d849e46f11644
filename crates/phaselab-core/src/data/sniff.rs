//! What a file that could not be read looks like, in words, so that an error can say what the
//! file had to be and what it is instead ("a text file", "a zip archive with x but without q, v").

use std::io::Cursor;

/// The arrays every phaselab dataset (.npz) holds.
pub const DATASET_ARRAYS: [&str; 4] = ["q", "v", "dt", "metadata"];

/// The first bytes of a phaselab checkpoint (`train::checkpoint`'s format).
const CHECKPOINT_MAGIC: &[u8] = b"PHASELAB-CKPT\n";

/// A phrase for what `bytes` holds: "an empty file", "a text file starting "…"", "a zip archive
/// with a, b but without q, v", "a phaselab checkpoint", "a single NumPy array (.npy)", ...
pub fn describe(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "an empty file".into();
    }
    if bytes.starts_with(CHECKPOINT_MAGIC) {
        return "a phaselab checkpoint (.phaselab)".into();
    }
    if bytes.starts_with(b"\x93NUMPY") {
        return "a single NumPy array (.npy), not an .npz archive of arrays".into();
    }
    if bytes.starts_with(b"PK") {
        return describe_zip(bytes);
    }
    let head = &bytes[..bytes.len().min(512)];
    let text = match std::str::from_utf8(head) {
        Ok(s) => Some(s),
        // a multi-byte character cut off at byte 512 (not an invalid one, nor a short file)
        Err(e) if e.error_len().is_none() && bytes.len() > head.len() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    };
    match text.filter(|s| !s.chars().any(|c| c.is_control() && !c.is_whitespace())) {
        Some(s) => {
            let line = s
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim();
            let mut start: String = line.chars().take(40).collect();
            if line.chars().count() > 40 {
                start.push('…');
            }
            format!("a text file starting \"{start}\"")
        }
        None => "binary data that is neither a zip archive (.npz) nor a phaselab checkpoint".into(),
    }
}

fn describe_zip(bytes: &[u8]) -> String {
    let Ok(zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return "a damaged or truncated zip archive".into();
    };
    let names: Vec<String> = zip
        .file_names()
        .map(|n| {
            let n = n.map(|n| n.into_owned()).unwrap_or_else(|_| "?".into());
            n.strip_suffix(".npy").map(str::to_string).unwrap_or(n)
        })
        .collect();
    if names.is_empty() {
        return "an empty zip archive".into();
    }
    let missing: Vec<&str> = DATASET_ARRAYS
        .into_iter()
        .filter(|k| !names.iter().any(|n| n == k))
        .collect();
    if missing.is_empty() {
        return "an archive with a dataset's arrays whose contents do not check out".into();
    }
    let mut sorted = names;
    sorted.sort();
    let mut shown = sorted
        .iter()
        .take(5)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if sorted.len() > 5 {
        shown.push_str(&format!(" and {} more", sorted.len() - 5));
    }
    format!(
        "a zip archive with {shown} but without {}",
        missing.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_of(names: &[&str]) -> Vec<u8> {
        let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for n in names {
            zw.start_file(*n, zip::write::SimpleFileOptions::default())
                .unwrap();
        }
        zw.finish().unwrap().into_inner()
    }

    #[test]
    fn files_are_described_in_words() {
        assert_eq!(describe(b""), "an empty file");
        assert_eq!(
            describe(b"this is not a zip archive\n"),
            "a text file starting \"this is not a zip archive\""
        );
        assert!(describe("é".repeat(300).as_bytes()).starts_with("a text file starting \"éé"));
        assert!(describe(&[1, 2, 3, 0, 255]).starts_with("binary data"));
        assert!(describe(&[0xFF, 0xFE, 0x00]).starts_with("binary data"));
        assert!(describe(b"\x93NUMPY\x01\x00").contains(".npy"));
        assert_eq!(describe(&zip_of(&[])), "an empty zip archive");
        assert_eq!(
            describe(&zip_of(&["x.npy", "q.npy"])),
            "a zip archive with q, x but without v, dt, metadata"
        );
        assert!(
            describe(&zip_of(&["q.npy", "v.npy", "dt.npy", "metadata.npy"]))
                .contains("do not check out")
        );
        assert_eq!(
            describe(b"PK\x03\x04junk"),
            "a damaged or truncated zip archive"
        );
    }

    #[test]
    fn a_checkpoint_is_recognised_by_the_checkpoint_format_s_own_first_bytes() {
        assert_eq!(CHECKPOINT_MAGIC, &crate::train::checkpoint::MAGIC[..]);
        assert!(describe(b"PHASELAB-CKPT\n\x03").contains("checkpoint"));
    }
}
