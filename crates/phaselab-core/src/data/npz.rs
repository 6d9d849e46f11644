//! `.npz` archives (a zip of `.npy` files, as `numpy.savez` writes them), from and to bytes.
//! Written deflated with a fixed timestamp so the same data gives byte-identical files.

use super::npy::{NpyArray, NpyError};
use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use zip::write::SimpleFileOptions;

/// Named arrays of an archive, in name order.
pub type Arrays = BTreeMap<String, NpyArray>;

/// Serialise arrays as an `.npz` archive.
pub fn write(arrays: &Arrays) -> Vec<u8> {
    let mut zw = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (name, arr) in arrays {
        // Writing to memory cannot fail.
        zw.start_file(format!("{name}.npy"), opts)
            .expect("zip entry");
        zw.write_all(&arr.to_bytes()).expect("zip write");
    }
    zw.finish().expect("zip finish").into_inner()
}

/// Read every array of an `.npz` archive.
pub fn read(bytes: &[u8]) -> Result<Arrays, NpyError> {
    let mut za = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        NpyError(format!(
            "not an .npz file (not a readable zip archive: {e})"
        ))
    })?;
    let mut out = Arrays::new();
    for i in 0..za.len() {
        let mut f = za
            .by_index(i)
            .map_err(|e| NpyError(format!("damaged .npz entry {i}: {e}")))?;
        let name = f
            .name()
            .map_err(|e| NpyError(format!("damaged .npz entry {i}: {e}")))?
            .to_string();
        let Some(key) = name.strip_suffix(".npy") else {
            continue;
        };
        let mut buf = Vec::with_capacity(f.size().min(1 << 30) as usize);
        f.read_to_end(&mut buf)
            .map_err(|e| NpyError(format!("damaged .npz entry '{name}': {e}")))?;
        let arr =
            NpyArray::from_bytes(&buf).map_err(|e| NpyError(format!("array '{key}': {}", e.0)))?;
        out.insert(key.to_string(), arr);
    }
    Ok(out)
}
