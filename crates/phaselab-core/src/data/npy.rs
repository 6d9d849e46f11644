//! The NumPy `.npy` format (versions 1.0-3.0), read and written from bytes.
//!
//! Supported dtypes: little/big-endian f4, f8 (read as f64), i4, i8 (read as i64), booleans, and
//! UTF-32 strings `<U` (phaselab's metadata). Everything else is rejected with its dtype named.

/// A decoded array: its shape and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: NpyData,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NpyData {
    F64(Vec<f64>),
    I64(Vec<i64>),
    Str(String),
}

/// A malformed or unsupported `.npy` payload.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct NpyError(pub String);

const MAGIC: &[u8] = b"\x93NUMPY";

impl NpyArray {
    pub fn f64(shape: Vec<usize>, values: Vec<f64>) -> Self {
        NpyArray {
            shape,
            data: NpyData::F64(values),
        }
    }
    pub fn i64(shape: Vec<usize>, values: Vec<i64>) -> Self {
        NpyArray {
            shape,
            data: NpyData::I64(values),
        }
    }
    pub fn string(s: &str) -> Self {
        NpyArray {
            shape: vec![],
            data: NpyData::Str(s.to_string()),
        }
    }
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn dtype_name(&self) -> &'static str {
        match self.data {
            NpyData::F64(_) => "float64",
            NpyData::I64(_) => "int64",
            NpyData::Str(_) => "str",
        }
    }

    /// Serialise as `.npy` version 1.0 (2.0 if the header is too long).
    pub fn to_bytes(&self) -> Vec<u8> {
        let (descr, payload): (String, Vec<u8>) = match &self.data {
            NpyData::F64(v) => (
                "<f8".into(),
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ),
            NpyData::I64(v) => (
                "<i8".into(),
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            ),
            NpyData::Str(s) => {
                let chars: Vec<char> = s.chars().collect();
                let n = chars.len().max(1);
                let mut b: Vec<u8> = chars
                    .iter()
                    .flat_map(|c| (*c as u32).to_le_bytes())
                    .collect();
                b.resize(4 * n, 0);
                (format!("<U{n}"), b)
            }
        };
        let shape = match self.shape.len() {
            0 => "()".to_string(),
            1 => format!("({},)", self.shape[0]),
            _ => format!(
                "({})",
                self.shape
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        let v1 = header.len() + 11 < 65_535;
        let prefix = if v1 { 10 } else { 12 };
        let total = (prefix + header.len() + 1).div_ceil(64) * 64;
        while prefix + header.len() + 1 < total {
            header.push(' ');
        }
        header.push('\n');
        let mut out = Vec::with_capacity(total + payload.len());
        out.extend_from_slice(MAGIC);
        if v1 {
            out.extend_from_slice(&[1, 0]);
            out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&[2, 0]);
            out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// Parse `.npy` bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self, NpyError> {
        let err = |s: &str| NpyError(s.to_string());
        if b.len() < 10 || &b[..6] != MAGIC {
            return Err(err("not a .npy array (bad magic bytes)"));
        }
        let (hlen, start) = match b[6] {
            1 => (u16::from_le_bytes([b[8], b[9]]) as usize, 10),
            2 | 3 => {
                if b.len() < 12 {
                    return Err(err("truncated .npy header"));
                }
                (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12)
            }
            v => return Err(NpyError(format!("unsupported .npy version {v}"))),
        };
        let header = b
            .get(start..start + hlen)
            .ok_or_else(|| err("truncated .npy header"))?;
        let header = std::str::from_utf8(header).map_err(|_| err("the .npy header is not text"))?;
        let descr =
            dict_value(header, "descr").ok_or_else(|| err("the .npy header has no 'descr'"))?;
        let descr = descr
            .trim()
            .trim_matches(|c| c == '\'' || c == '"')
            .to_string();
        let fortran = dict_value(header, "fortran_order")
            .map(|s| s.trim().starts_with("True"))
            .unwrap_or(false);
        let shape_txt =
            dict_value(header, "shape").ok_or_else(|| err("the .npy header has no 'shape'"))?;
        let shape = parse_shape(&shape_txt)
            .ok_or_else(|| NpyError(format!("cannot read shape {shape_txt}")))?;
        let count: usize = shape
            .iter()
            .try_fold(1usize, |a, &s| a.checked_mul(s))
            .ok_or_else(|| err("shape too large"))?;
        let body = &b[start + hlen..];
        let (order, kind, size) =
            parse_descr(&descr).ok_or_else(|| NpyError(format!("unsupported dtype '{descr}'")))?;
        let need = count
            .checked_mul(size)
            .ok_or_else(|| err("shape too large"))?;
        if body.len() < need {
            return Err(NpyError(format!(
                "truncated array: shape {shape:?} of {descr} needs {need} bytes, the file has {}",
                body.len()
            )));
        }
        let body = &body[..need];
        let le = order != '>';
        let word = |c: &[u8]| -> [u8; 8] {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            if !le {
                w[..c.len()].reverse();
            }
            w
        };
        let data = match (kind, size) {
            ('f', 8) => NpyData::F64(
                body.chunks(8)
                    .map(|c| f64::from_le_bytes(word(c)))
                    .collect(),
            ),
            ('f', 4) => NpyData::F64(
                body.chunks(4)
                    .map(|c| f32::from_le_bytes(word(c)[..4].try_into().unwrap()) as f64)
                    .collect(),
            ),
            ('i', 8) => NpyData::I64(
                body.chunks(8)
                    .map(|c| i64::from_le_bytes(word(c)))
                    .collect(),
            ),
            ('i', 4) => NpyData::I64(
                body.chunks(4)
                    .map(|c| i32::from_le_bytes(word(c)[..4].try_into().unwrap()) as i64)
                    .collect(),
            ),
            ('b', 1) => NpyData::I64(body.iter().map(|&x| (x != 0) as i64).collect()),
            ('U', _) => {
                if count != 1 {
                    return Err(err("string arrays must hold a single string"));
                }
                let s: String = body
                    .chunks(4)
                    .map(|c| u32::from_le_bytes(word(c)[..4].try_into().unwrap()))
                    .take_while(|&u| u != 0)
                    .map(|u| {
                        char::from_u32(u).ok_or_else(|| err("invalid character in string array"))
                    })
                    .collect::<Result<_, _>>()?;
                NpyData::Str(s)
            }
            _ => return Err(NpyError(format!("unsupported dtype '{descr}'"))),
        };
        let mut arr = NpyArray { shape, data };
        if fortran && arr.shape.len() > 1 {
            arr = arr.from_fortran();
        }
        Ok(arr)
    }

    /// Reorder a Fortran-ordered payload into C order.
    fn from_fortran(self) -> Self {
        let shape = self.shape.clone();
        let n: usize = shape.iter().product();
        let reorder = |src: &dyn Fn(usize) -> usize| -> Vec<usize> { (0..n).map(src).collect() };
        // Index in C order -> index in Fortran order.
        let idx = reorder(&|c| {
            let mut rem = c;
            let mut coords = vec![0; shape.len()];
            for (k, s) in shape.iter().enumerate().rev() {
                coords[k] = rem % s;
                rem /= s;
            }
            let mut f = 0;
            for (k, s) in shape.iter().enumerate().rev() {
                f = f * s + coords[k];
            }
            f
        });
        let data = match self.data {
            NpyData::F64(v) => NpyData::F64(idx.iter().map(|&i| v[i]).collect()),
            NpyData::I64(v) => NpyData::I64(idx.iter().map(|&i| v[i]).collect()),
            s => s,
        };
        NpyArray { shape, data }
    }
}

/// Value text of `key` in a Python dict literal (up to the next top-level comma).
fn dict_value(header: &str, key: &str) -> Option<String> {
    let pos = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = &header[pos + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?;
    let mut depth = 0;
    let mut end = rest.len();
    for (i, ch) in rest.char_indices() {
        match ch {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    Some(rest[..end].trim().to_string())
}

fn parse_shape(s: &str) -> Option<Vec<usize>> {
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    inner
        .split(',')
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| p.trim_end_matches('L').parse().ok())
        .collect()
}

fn parse_descr(d: &str) -> Option<(char, char, usize)> {
    let mut chars = d.chars();
    let first = chars.next()?;
    let (order, rest) = if "<>|=".contains(first) {
        (first, &d[1..])
    } else {
        ('=', d)
    };
    let kind = rest.chars().next().filter(|c| c.is_ascii_alphabetic())?;
    let n: usize = rest[1..].parse().ok()?;
    let size = if kind == 'U' { n.checked_mul(4)? } else { n };
    Some((order, kind, size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let a = NpyArray::f64(vec![2, 3], vec![1.0, -2.5, 3.0, f64::MAX, 0.0, 1e-300]);
        assert_eq!(NpyArray::from_bytes(&a.to_bytes()).unwrap(), a);
        let s = NpyArray::string("{\"system\": \"rotor\", \"π\": 3}");
        assert_eq!(NpyArray::from_bytes(&s.to_bytes()).unwrap(), s);
        let i = NpyArray::i64(vec![4], vec![0, -1, 7, 1 << 40]);
        assert_eq!(NpyArray::from_bytes(&i.to_bytes()).unwrap(), i);
        assert_eq!(a.to_bytes().len() % 64, 48 % 64); // header aligned to 64
    }

    #[test]
    fn reads_numpy_written_float32_and_fortran() {
        // np.save of np.array([[1, 2, 3], [4, 5, 6]], dtype='<f4', order='F')
        let header = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }";
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&[1, 0]);
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
        b.extend_from_slice(header.as_bytes());
        for x in [1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0] {
            b.extend_from_slice(&x.to_le_bytes());
        }
        let a = NpyArray::from_bytes(&b).unwrap();
        assert_eq!(
            a,
            NpyArray::f64(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        );
    }

    #[test]
    fn rejects_bad_payloads() {
        let a = NpyArray::f64(vec![10], vec![0.5; 10]).to_bytes();
        assert!(NpyArray::from_bytes(&a[..a.len() - 3])
            .unwrap_err()
            .0
            .contains("truncated"));
        assert!(NpyArray::from_bytes(b"hello world")
            .unwrap_err()
            .0
            .contains("magic"));
        let c = String::from_utf8_lossy(&a).replace("<f8", "<c8");
        assert!(NpyArray::from_bytes(c.as_bytes()).is_err());
    }
}
