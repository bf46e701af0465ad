//! Networks in and out of the ML stack (issue 12, item 1): `certify import`
//! reads bias-free ReLU networks saved by PyTorch or NumPy (safetensors,
//! `.npz`, `.npy`) and `certify export --npz` writes a network file's
//! matrices back.
//!
//! Conventions: PyTorch's `nn.Linear` stores its weight as `[out, in]`, which
//! is the network file's `W_i` (`n_i x n_{i-1}`, row-major) as it is. Every
//! f16, bf16, f32 and f64 value is exactly a binary64 value, so the
//! conversion is exact; a non-finite value, a nonzero bias, a shape that
//! does not chain or an unsupported dtype is an error naming the tensor.
//! Nothing here is on the checker's side: the network file it writes is
//! validated by the file format's own reader like any other.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::Path;

use crate::format::network::{Measurement, Network};

/// Largest file `import` reads (the network format holds at most 2^27
/// binary64 entries, 1 GiB).
pub const MAX_IMPORT_BYTES: u64 = 2 << 30;

/// A tensor converted exactly to binary64, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
}

/// What kind of file, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Safetensors,
    Npz,
    Npy,
}

impl FileKind {
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Safetensors => "safetensors",
            FileKind::Npz => "npz",
            FileKind::Npy => "npy",
        }
    }
}

/// Where the measurement matrix comes from.
#[derive(Clone, Debug)]
pub enum MeasurementSource {
    Tensor(String),
    Identity,
}

/// Where `x*` comes from.
#[derive(Clone, Debug)]
pub enum TargetSource {
    Tensor(String),
    Values(Vec<f64>),
}

/// What `certify import` was asked for.
#[derive(Clone, Debug)]
pub struct ImportSpec {
    /// Weight tensors in forward order; `None`: found by the `nn.Sequential`
    /// naming convention (`[prefix.]N.weight`, by `N`).
    pub layers: Option<Vec<String>>,
    pub measurement: MeasurementSource,
    pub target: TargetSource,
}

/// Recognises the file's kind from its contents.
pub fn detect(bytes: &[u8]) -> Result<FileKind, String> {
    if bytes.starts_with(b"\x93NUMPY") {
        return Ok(FileKind::Npy);
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Ok(FileKind::Npz);
    }
    // safetensors: an 8-byte little-endian header length, then JSON.
    if bytes.len() >= 9 && bytes[8] == b'{' {
        let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        if n >= 2 && n <= bytes.len() as u64 - 8 {
            return Ok(FileKind::Safetensors);
        }
    }
    Err("not a safetensors, .npz or .npy file (unrecognised first bytes)".into())
}

/// Reads a regular file of at most [`MAX_IMPORT_BYTES`] (the length is
/// checked before reading).
pub fn read_input(path: &Path) -> Result<Vec<u8>, String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let meta = std::fs::metadata(path).map_err(|e| err(&e))?;
    if !meta.is_file() {
        return Err(err(&"not a regular file"));
    }
    if meta.len() > MAX_IMPORT_BYTES {
        return Err(err(&format!(
            "{} bytes, more than the {MAX_IMPORT_BYTES}-byte limit",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_IMPORT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| err(&e))?;
    Ok(bytes)
}

/// Every tensor of the file, by name (a lone `.npy` is named `arr_0`, as
/// `numpy.savez` would name it).
pub fn read_tensors(bytes: &[u8]) -> Result<(FileKind, BTreeMap<String, Tensor>), String> {
    let kind = detect(bytes)?;
    let tensors = match kind {
        FileKind::Safetensors => safetensors_tensors(bytes)?,
        FileKind::Npy => {
            let t = npy_tensor(bytes).map_err(|e| format!("tensor 'arr_0': {e}"))?;
            BTreeMap::from([("arr_0".to_string(), t)])
        }
        FileKind::Npz => npz_tensors(bytes)?,
    };
    Ok((kind, tensors))
}

fn safetensors_tensors(bytes: &[u8]) -> Result<BTreeMap<String, Tensor>, String> {
    use safetensors::{Dtype, SafeTensors};
    let st = SafeTensors::deserialize(bytes).map_err(|e| format!("safetensors: {e}"))?;
    let mut out = BTreeMap::new();
    for (name, view) in st.tensors() {
        let data = view.data();
        let values: Vec<f64> = match view.dtype() {
            Dtype::F64 => data
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")) as f64)
                .collect(),
            Dtype::F16 => data
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f64())
                .collect(),
            Dtype::BF16 => data
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f64())
                .collect(),
            other => {
                return Err(format!(
                    "tensor '{name}': dtype {other:?} is not supported (f16, bf16, f32, f64)"
                ))
            }
        };
        out.insert(
            name.clone(),
            Tensor {
                shape: view.shape().to_vec(),
                values,
            },
        );
    }
    Ok(out)
}

fn npy_tensor(bytes: &[u8]) -> Result<Tensor, String> {
    use npyz::{DType, NpyFile, Order, TypeChar};
    let npy = NpyFile::new(bytes).map_err(|e| e.to_string())?;
    let shape: Vec<usize> = npy
        .shape()
        .iter()
        .map(|&n| usize::try_from(n).map_err(|_| "absurd shape".to_string()))
        .collect::<Result<_, _>>()?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &n| a.checked_mul(n))
        .ok_or("absurd shape")?;
    let fortran = npy.order() == Order::Fortran;
    let dtype = npy.dtype();
    let DType::Plain(ts) = &dtype else {
        return Err(format!(
            "dtype {} is not supported (float16/32/64)",
            dtype.descr()
        ));
    };
    if ts.type_char() != TypeChar::Float {
        return Err(format!(
            "dtype {} is not supported (float16/32/64)",
            dtype.descr()
        ));
    }
    // The length is known before reading: a truncated array is an error.
    let mut values: Vec<f64> = match ts.size_field() {
        8 => npy.into_vec::<f64>().map_err(|e| e.to_string())?,
        4 => npy
            .into_vec::<f32>()
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(f64::from)
            .collect(),
        2 => npy
            .into_vec::<half::f16>()
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(half::f16::to_f64)
            .collect(),
        _ => {
            return Err(format!(
                "dtype {} is not supported (float16/32/64)",
                dtype.descr()
            ))
        }
    };
    if values.len() != count {
        return Err(format!(
            "{} values for shape {shape:?} (truncated?)",
            values.len()
        ));
    }
    if fortran && shape.len() > 1 {
        values = fortran_to_row_major(&values, &shape);
    }
    Ok(Tensor { shape, values })
}

/// Reorders a column-major (Fortran) array of `shape` into row-major order.
fn fortran_to_row_major(values: &[f64], shape: &[usize]) -> Vec<f64> {
    let n = values.len();
    let mut out = vec![0.0; n];
    let mut idx = vec![0usize; shape.len()];
    for (c_pos, slot) in out.iter_mut().enumerate() {
        // Row-major index -> multi-index -> column-major position.
        let mut rem = c_pos;
        for d in (0..shape.len()).rev() {
            idx[d] = rem % shape[d];
            rem /= shape[d];
        }
        let mut f_pos = 0;
        for d in (0..shape.len()).rev() {
            f_pos = f_pos * shape[d] + idx[d];
        }
        *slot = values[f_pos];
    }
    out
}

fn npz_tensors(bytes: &[u8]) -> Result<BTreeMap<String, Tensor>, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("npz: {e}"))?;
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).map_err(|e| format!("npz: {e}"))?;
        let Some(name) = file.name().strip_suffix(".npy").map(str::to_string) else {
            continue;
        };
        // The size is declared by the archive; it is checked against the
        // limit before anything is inflated.
        if file.size() > MAX_IMPORT_BYTES {
            return Err(format!("tensor '{name}': larger than the import limit"));
        }
        let mut data = Vec::new();
        (&mut file)
            .take(MAX_IMPORT_BYTES + 1)
            .read_to_end(&mut data)
            .map_err(|e| format!("tensor '{name}': {e}"))?;
        let t = npy_tensor(&data).map_err(|e| format!("tensor '{name}': {e}"))?;
        if out.insert(name.clone(), t).is_some() {
            return Err(format!("tensor '{name}': appears twice in the archive"));
        }
    }
    Ok(out)
}

/// The weight tensors of an `nn.Sequential` state dict: names
/// `[prefix.]N.weight` with one common prefix, ordered by `N`.
fn sequential_layers(tensors: &BTreeMap<String, Tensor>) -> Result<Vec<String>, String> {
    let mut found: Vec<(String, u64, String)> = Vec::new();
    for name in tensors.keys() {
        let Some(stem) = name.strip_suffix(".weight") else {
            continue;
        };
        let (prefix, index) = match stem.rsplit_once('.') {
            Some((p, i)) => (p.to_string(), i),
            None => (String::new(), stem),
        };
        if let Ok(n) = index.parse::<u64>() {
            found.push((prefix, n, name.clone()));
        }
    }
    if found.is_empty() {
        let names: Vec<&str> = tensors.keys().map(String::as_str).collect();
        return Err(format!(
            "no layers named like nn.Sequential ('0.weight', '2.weight', ...) among {}: name them with --layers",
            names.join(", ")
        ));
    }
    let prefix = found[0].0.clone();
    if found.iter().any(|f| f.0 != prefix) {
        return Err(
            "weights under several prefixes: name the layers with --layers a.weight,b.weight"
                .into(),
        );
    }
    found.sort_by_key(|f| f.1);
    Ok(found.into_iter().map(|f| f.2).collect())
}

fn finite(name: &str, t: &Tensor) -> Result<(), String> {
    match t.values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(format!(
            "tensor '{name}': entry {i} is {} (every value must be finite)",
            t.values[i]
        )),
        None => Ok(()),
    }
}

/// Builds the network `spec` describes from `tensors`. The result is
/// validated as any network file is.
pub fn build_network(
    tensors: &BTreeMap<String, Tensor>,
    spec: &ImportSpec,
) -> Result<Network, String> {
    let get = |name: &str| {
        tensors.get(name).ok_or_else(|| {
            let names: Vec<&str> = tensors.keys().map(String::as_str).collect();
            format!("no tensor '{name}' (the file has {})", names.join(", "))
        })
    };
    let layers = match &spec.layers {
        Some(l) => l.clone(),
        None => sequential_layers(tensors)?,
    };
    let mut weights = Vec::new();
    let mut widths = Vec::new();
    let mut fan_in: Option<usize> = None;
    for name in &layers {
        let t = get(name)?;
        let [out, inp] = t.shape[..] else {
            return Err(format!(
                "tensor '{name}': shape {:?}, expected [out, in] (a Linear weight)",
                t.shape
            ));
        };
        if let Some(prev) = fan_in {
            if inp != prev {
                return Err(format!(
                    "tensor '{name}': shape [{out}, {inp}] does not follow the previous layer's {prev} outputs"
                ));
            }
        }
        finite(name, t)?;
        // A bias next to the weight must be zero: the theorem is about
        // bias-free networks.
        if let Some(stem) = name.strip_suffix(".weight") {
            let bias = format!("{stem}.bias");
            if let Some(b) = tensors.get(&bias) {
                if let Some(i) = b.values.iter().position(|&v| v != 0.0) {
                    return Err(format!(
                        "tensor '{bias}': entry {i} is {} (biases must be zero: the network must be bias-free)",
                        b.values[i]
                    ));
                }
            }
        }
        fan_in = Some(out);
        widths.push(out);
        weights.push(t.values.clone());
    }
    let latent = match layers.first() {
        Some(n) => get(n)?.shape[1],
        None => return Err("--layers: no layer named".into()),
    };
    let n_d = *widths.last().expect("at least one layer");
    let (measurement, a) = match &spec.measurement {
        MeasurementSource::Identity => (Measurement::Identity, None),
        MeasurementSource::Tensor(name) => {
            let t = get(name)?;
            let [m, cols] = t.shape[..] else {
                return Err(format!(
                    "tensor '{name}': shape {:?}, expected [m, {n_d}]",
                    t.shape
                ));
            };
            if cols != n_d {
                return Err(format!(
                    "tensor '{name}': shape [{m}, {cols}], expected [m, {n_d}] (the last layer has {n_d} outputs)"
                ));
            }
            finite(name, t)?;
            (Measurement::Matrix { m }, Some(t.values.clone()))
        }
    };
    let target = match &spec.target {
        TargetSource::Values(v) => v.clone(),
        TargetSource::Tensor(name) => {
            let t = get(name)?;
            if t.values.len() != latent || !(t.shape == [latent] || t.shape == [1, latent]) {
                return Err(format!(
                    "tensor '{name}': shape {:?}, expected [{latent}] (x* has the latent dimension)",
                    t.shape
                ));
            }
            finite(name, t)?;
            t.values.clone()
        }
    };
    if target.len() != latent {
        return Err(format!(
            "--target: {} values, expected {latent} (the latent dimension)",
            target.len()
        ));
    }
    let net = Network {
        latent,
        widths,
        measurement,
        weights,
        a,
        target,
        sampling: None,
    };
    net.validate().map_err(|e| e.to_string())?;
    Ok(net)
}

/// Names of the arrays [`export_npz`] writes: `0.weight`, `1.weight`, ...
/// (the `nn.Sequential` convention, so `import` finds them again), `A` when
/// there is a measurement matrix, and `x_star`.
pub fn export_names(net: &Network) -> Vec<String> {
    let mut names: Vec<String> = (0..net.weights.len())
        .map(|i| format!("{i}.weight"))
        .collect();
    if net.a.is_some() {
        names.push("A".into());
    }
    names.push("x_star".into());
    names
}

/// The network's matrices as an uncompressed `.npz` (`numpy.savez` layout:
/// one little-endian float64 `.npy` per array, C order).
pub fn export_npz(net: &Network) -> Result<Vec<u8>, String> {
    use npyz::WriterBuilder;
    use std::io::Write;
    let mut arrays: Vec<(String, Vec<u64>, &[f64])> = Vec::new();
    let mut fan_in = net.latent;
    for (i, w) in net.weights.iter().enumerate() {
        let n = net.widths[i];
        arrays.push((format!("{i}.weight"), vec![n as u64, fan_in as u64], w));
        fan_in = n;
    }
    if let (Some(a), Measurement::Matrix { m }) = (&net.a, &net.measurement) {
        arrays.push(("A".into(), vec![*m as u64, fan_in as u64], a));
    }
    arrays.push((
        "x_star".into(),
        vec![net.latent as u64],
        net.target.as_slice(),
    ));
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for (name, shape, values) in arrays {
        let mut npy = Vec::new();
        {
            let mut writer = npyz::WriteOptions::<f64>::new()
                .default_dtype()
                .shape(&shape)
                .writer(&mut npy)
                .begin_nd()
                .map_err(|e| e.to_string())?;
            writer
                .extend(values.iter().copied())
                .map_err(|e| e.to_string())?;
            writer.finish().map_err(|e| e.to_string())?;
        }
        zip.start_file(format!("{name}.npy"), options)
            .map_err(|e| e.to_string())?;
        zip.write_all(&npy).map_err(|e| e.to_string())?;
    }
    Ok(zip.finish().map_err(|e| e.to_string())?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fortran_order_is_transposed() {
        // [[1, 2, 3], [4, 5, 6]] stored column-major.
        let f = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
        assert_eq!(
            fortran_to_row_major(&f, &[2, 3]),
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        );
    }

    #[test]
    fn kinds_from_contents() {
        assert_eq!(detect(b"\x93NUMPY\x01\x00").unwrap(), FileKind::Npy);
        assert_eq!(detect(b"PK\x03\x04....").unwrap(), FileKind::Npz);
        let mut st = 2u64.to_le_bytes().to_vec();
        st.extend(b"{}");
        assert_eq!(detect(&st).unwrap(), FileKind::Safetensors);
        assert!(detect(b"HVNETBIN").is_err());
        assert!(detect(b"").is_err());
    }
}
