//! `.npz` archives (a zip of `.npy` files, as `numpy.savez` writes them), from and to bytes.
//! Written deflated with a fixed timestamp so the same data gives byte-identical files.

use super::npy::{NpyArray, NpyError};
use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use zip::write::SimpleFileOptions;

/// Most bytes an archive may inflate to (a guard against zip bombs): 2 GiB.
pub const MAX_INFLATED: u64 = 2 << 30;

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
    let mut budget = MAX_INFLATED;
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
        // Never trust the declared sizes: reserve no more than DEFLATE can inflate the entry's
        // stored bytes (at most the whole file) to, 1032:1, nor 16 MiB; and cap what one archive
        // may inflate to.
        let stored = f.compressed_size().min(bytes.len() as u64);
        let plausible = stored.saturating_mul(1032);
        let mut buf = Vec::with_capacity(f.size().min(plausible).min(1 << 24) as usize);
        (&mut f)
            .take(budget + 1)
            .read_to_end(&mut buf)
            .map_err(|e| NpyError(format!("damaged .npz entry '{name}': {e}")))?;
        if buf.len() as u64 > budget {
            return Err(NpyError(format!(
                "the .npz archive inflates to more than {} MB; refusing to read it",
                MAX_INFLATED >> 20
            )));
        }
        budget -= buf.len() as u64;
        let arr =
            NpyArray::from_bytes(&buf).map_err(|e| NpyError(format!("array '{key}': {}", e.0)))?;
        out.insert(key.to_string(), arr);
    }
    Ok(out)
}
