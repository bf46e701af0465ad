//! The network file `weights.bin` (format page: `docs/network-format.md`).

/// How the measurements are taken: a matrix `A` (`m x n_d`) or `A = I`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Measurement {
    /// `A = I`, `m = n_d` (the paper's inversion case).
    Identity,
    /// A dense `m x n_d` matrix.
    Matrix { m: usize },
}

/// How a sampled network was drawn (optional block of the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamplingInfo {
    /// Generator identifier; 1 = `hvcert-sample-v1` (see the format page).
    pub generator: u32,
    pub seed: u64,
}

/// A network exactly as stored: every entry a finite binary64 value.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// Latent dimension `k = n_0`.
    pub latent: usize,
    /// Layer widths `n_1 .. n_d` (`d = widths.len() >= 1`).
    pub widths: Vec<usize>,
    pub measurement: Measurement,
    /// `W_1 .. W_d`, row-major, `W_i` is `n_i x n_{i-1}`.
    pub weights: Vec<Vec<f64>>,
    /// `A`, row-major `m x n_d`; `None` exactly when `measurement` is `Identity`.
    pub a: Option<Vec<f64>>,
    /// The target latent code `x*` (length `k`, not all zero).
    pub target: Vec<f64>,
    pub sampling: Option<SamplingInfo>,
}

// ---------------------------------------------------------------------------
// Binary layout v1 (see `docs/network-format.md`).
// ---------------------------------------------------------------------------

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The first eight bytes of every network file.
pub const MAGIC: [u8; 8] = *b"HVNETBIN";
/// The only layout version this crate reads and writes.
pub const VERSION: u32 = 1;
/// Flag bit 0: `A = I` (inversion); the file then stores `m = 0` and no `A`.
pub const FLAG_INVERSION: u32 = 1;
/// Flag bit 1: the sampling block (generator id, seed) follows `x*`.
pub const FLAG_SAMPLING: u32 = 2;
/// Largest latent dimension `k`.
pub const MAX_LATENT: u64 = 4096;
/// Largest depth `d`.
pub const MAX_DEPTH: u64 = 64;
/// Largest layer width `n_i`.
pub const MAX_WIDTH: u64 = 1_000_000;
/// Largest number of measurements `m`.
pub const MAX_MEASUREMENTS: u64 = 1_000_000;
/// Largest total number of binary64 entries (all `W_i`, `A` and `x*`).
pub const MAX_ENTRIES: u64 = 1 << 27;

/// Bytes before the widths: magic, version, flags, k, d.
const FIXED_HEADER: u64 = 8 + 4 + 4 + 4 + 4;
/// Bytes of the sampling block: u32 generator id, u64 seed.
const SAMPLING_BLOCK: u64 = 4 + 8;
/// The longest possible header (d = MAX_DEPTH), widths and m included.
const MAX_HEADER: u64 = FIXED_HEADER + 4 * MAX_DEPTH + 4;

/// Why a network (file bytes or in-memory struct) is rejected.
///
/// Each variant is one failure class; its `Display` is a single line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// The first eight bytes are not `HVNETBIN`.
    #[error("bad magic: expected \"HVNETBIN\", found \"{found}\"")]
    BadMagic { found: String },
    /// The version field is not 1.
    #[error("unsupported version {0} (this reader understands version 1)")]
    UnsupportedVersion(u32),
    /// Flag bits other than 0 and 1 are set (the value holds only those bits).
    #[error("unknown flags {0:#x}")]
    UnknownFlags(u32),
    /// The file ends inside the header (magic .. m).
    #[error("truncated header: expected at least {expected} bytes, file has {actual}")]
    TruncatedHeader { expected: u64, actual: u64 },
    /// The file is shorter than the header says it must be.
    #[error("truncated: expected {expected} bytes, file has {actual}")]
    Truncated { expected: u64, actual: u64 },
    /// The file is longer than the header says it must be.
    #[error("trailing bytes: expected {expected} bytes, file has {actual} ({} extra)", actual.saturating_sub(*expected))]
    TrailingBytes { expected: u64, actual: u64 },
    /// `k = 0`.
    #[error("latent dimension k is 0")]
    ZeroLatent,
    /// `d = 0`.
    #[error("depth d is 0")]
    ZeroDepth,
    /// `n_layer = 0` (`layer` counts from 1).
    #[error("layer {layer} has width 0")]
    ZeroWidth { layer: usize },
    /// `m = 0` although `A` is a matrix.
    #[error("m is 0 but the inversion flag is not set (a matrix A needs m >= 1)")]
    ZeroMeasurements,
    /// `m != 0` although the inversion flag (`A = I`) is set.
    #[error("m is {m} but the inversion flag is set (m must be 0 when A = I)")]
    MeasurementsWithInversion { m: u64 },
    /// A count or byte length computed from the dimensions does not fit.
    #[error("dimension overflow: {what}")]
    DimensionOverflow { what: String },
    /// A dimension or the total entry count is above its cap.
    #[error("exceeds cap: {what} is {value}, the maximum is {cap}")]
    ExceedsCap { what: String, value: u64, cap: u64 },
    /// An entry is NaN or infinite (`name` as `W_2[3,4]`, `A[0,1]`, `x*[2]`;
    /// layers count from 1, rows and columns from 0).
    #[error("entry {name} is {kind}")]
    NonFinite { name: String, kind: &'static str },
    /// Every entry of `x*` is zero (`-0.0` counts as zero).
    #[error("x* is zero")]
    ZeroTarget,
    /// In-memory struct only: a vector has the wrong length for the dimensions.
    #[error("wrong shape: {what} has length {actual}, expected {expected}")]
    WrongShape {
        what: String,
        expected: usize,
        actual: usize,
    },
    /// In-memory struct only: `measurement` and `a` disagree.
    #[error("inconsistent measurement: {0}")]
    InconsistentMeasurement(&'static str),
}

/// Dimensions checked against every structural rule and cap.
struct Dims {
    /// Total file length in bytes.
    file_len: u64,
}

fn overflow(what: &str) -> NetworkError {
    NetworkError::DimensionOverflow {
        what: what.to_string(),
    }
}

fn cap(what: String, value: u64, cap: u64) -> Result<(), NetworkError> {
    if value > cap {
        Err(NetworkError::ExceedsCap { what, value, cap })
    } else {
        Ok(())
    }
}

/// The structural checks shared by the reader and `validate`, in this order:
/// zero dimensions, `m` against the inversion flag, overflow of the entry
/// count and byte length (checked arithmetic), then the caps.
/// Allocates nothing.
fn check_dims(
    k: u64,
    widths: &[u64],
    m: u64,
    inversion: bool,
    sampling: bool,
) -> Result<Dims, NetworkError> {
    if k == 0 {
        return Err(NetworkError::ZeroLatent);
    }
    if widths.is_empty() {
        return Err(NetworkError::ZeroDepth);
    }
    let d = widths.len() as u64;
    cap("depth d".into(), d, MAX_DEPTH)?;
    if let Some(i) = widths.iter().position(|&n| n == 0) {
        return Err(NetworkError::ZeroWidth { layer: i + 1 });
    }
    if inversion && m != 0 {
        return Err(NetworkError::MeasurementsWithInversion { m });
    }
    if !inversion && m == 0 {
        return Err(NetworkError::ZeroMeasurements);
    }

    const ENTRIES: &str = "the number of binary64 entries does not fit in 64 bits";
    let mut entries = k;
    let mut prev = k;
    for &n in widths {
        let layer = n.checked_mul(prev).ok_or_else(|| overflow(ENTRIES))?;
        entries = entries
            .checked_add(layer)
            .ok_or_else(|| overflow(ENTRIES))?;
        prev = n;
    }
    let a_entries = m.checked_mul(prev).ok_or_else(|| overflow(ENTRIES))?;
    entries = entries
        .checked_add(a_entries)
        .ok_or_else(|| overflow(ENTRIES))?;
    const BYTES: &str = "the file length does not fit in 64 bits";
    let header = FIXED_HEADER + 4 * d + 4;
    let file_len = entries
        .checked_mul(8)
        .and_then(|b| b.checked_add(header))
        .and_then(|b| b.checked_add(if sampling { SAMPLING_BLOCK } else { 0 }))
        .ok_or_else(|| overflow(BYTES))?;
    if usize::try_from(file_len).is_err() {
        return Err(overflow("the file length does not fit in usize"));
    }

    cap("latent dimension k".into(), k, MAX_LATENT)?;
    for (i, &n) in widths.iter().enumerate() {
        cap(format!("width of layer {}", i + 1), n, MAX_WIDTH)?;
    }
    cap("m".into(), m, MAX_MEASUREMENTS)?;
    cap(
        "the total number of binary64 entries".into(),
        entries,
        MAX_ENTRIES,
    )?;
    Ok(Dims { file_len })
}

/// What the header says, fully checked, including the file length.
struct Header {
    inversion: bool,
    sampling: bool,
    k: usize,
    widths: Vec<usize>,
    m: usize,
    /// Offset of the first binary64 value.
    body_start: usize,
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// Parses and checks the header. `bytes` holds at least the first
/// `min(total_len, MAX_HEADER)` bytes of a file of `total_len` bytes. Checks
/// the file length against the header, so nothing is allocated before the
/// caller knows the body is complete.
fn parse_header(bytes: &[u8], total_len: u64) -> Result<Header, NetworkError> {
    let need = |n: u64| {
        if total_len < n {
            Err(NetworkError::TruncatedHeader {
                expected: n,
                actual: total_len,
            })
        } else {
            Ok(())
        }
    };
    let have = bytes.len().min(MAGIC.len());
    if bytes[..have] != MAGIC[..have] {
        return Err(NetworkError::BadMagic {
            found: bytes[..have].escape_ascii().to_string(),
        });
    }
    need(MAGIC.len() as u64)?;
    need(12)?;
    let version = u32_at(bytes, 8);
    if version != VERSION {
        return Err(NetworkError::UnsupportedVersion(version));
    }
    need(16)?;
    let flags = u32_at(bytes, 12);
    let unknown = flags & !(FLAG_INVERSION | FLAG_SAMPLING);
    if unknown != 0 {
        return Err(NetworkError::UnknownFlags(unknown));
    }
    let inversion = flags & FLAG_INVERSION != 0;
    let sampling = flags & FLAG_SAMPLING != 0;
    need(FIXED_HEADER)?;
    let k = u64::from(u32_at(bytes, 16));
    let d = u64::from(u32_at(bytes, 20));
    if k == 0 {
        return Err(NetworkError::ZeroLatent);
    }
    if d == 0 {
        return Err(NetworkError::ZeroDepth);
    }
    // Checked before reading the widths so that `d` bounds the header length.
    cap("depth d".into(), d, MAX_DEPTH)?;
    let header_len = FIXED_HEADER + 4 * d + 4;
    need(header_len)?;
    let widths: Vec<u64> = (0..d as usize)
        .map(|i| u64::from(u32_at(bytes, FIXED_HEADER as usize + 4 * i)))
        .collect();
    let m = u64::from(u32_at(bytes, header_len as usize - 4));
    let dims = check_dims(k, &widths, m, inversion, sampling)?;
    if total_len < dims.file_len {
        return Err(NetworkError::Truncated {
            expected: dims.file_len,
            actual: total_len,
        });
    }
    if total_len > dims.file_len {
        return Err(NetworkError::TrailingBytes {
            expected: dims.file_len,
            actual: total_len,
        });
    }
    // All values are below their caps, hence fit in usize.
    Ok(Header {
        inversion,
        sampling,
        k: k as usize,
        widths: widths.iter().map(|&n| n as usize).collect(),
        m: m as usize,
        body_start: header_len as usize,
    })
}

fn check_finite(values: &[f64], name: impl Fn(usize) -> String) -> Result<(), NetworkError> {
    for (i, v) in values.iter().enumerate() {
        let kind = if v.is_nan() {
            "NaN"
        } else if *v == f64::INFINITY {
            "+infinity"
        } else if *v == f64::NEG_INFINITY {
            "-infinity"
        } else {
            continue;
        };
        return Err(NetworkError::NonFinite {
            name: name(i),
            kind,
        });
    }
    Ok(())
}

fn shape(what: String, expected: usize, actual: usize) -> Result<(), NetworkError> {
    if expected == actual {
        Ok(())
    } else {
        Err(NetworkError::WrongShape {
            what,
            expected,
            actual,
        })
    }
}

impl Network {
    /// The depth `d` (number of weight matrices).
    pub fn depth(&self) -> usize {
        self.widths.len()
    }

    /// The number of measurements `m`; `n_d` under inversion (`A = I`).
    ///
    /// Panics if `widths` is empty under inversion (a struct that fails
    /// [`Network::validate`]).
    pub fn m(&self) -> usize {
        match self.measurement {
            Measurement::Identity => *self.widths.last().expect("depth >= 1"),
            Measurement::Matrix { m } => m,
        }
    }

    /// The width `n_i`, with `n_0 = k`. Panics if `i > d`.
    pub fn width(&self, i: usize) -> usize {
        if i == 0 {
            self.latent
        } else {
            self.widths[i - 1]
        }
    }

    /// The dimension checks alone (zero dimensions, `m` against the
    /// measurement kind, overflow, caps), before any entry exists: lets a
    /// caller refuse absurd dimensions before allocating.
    pub fn validate_dimensions(&self) -> Result<(), NetworkError> {
        let to_u64 =
            |n: usize| u64::try_from(n).map_err(|_| overflow("a dimension exceeds 64 bits"));
        let widths = self
            .widths
            .iter()
            .map(|&n| to_u64(n))
            .collect::<Result<Vec<_>, _>>()?;
        let (inversion, m) = match self.measurement {
            Measurement::Identity => (true, 0),
            Measurement::Matrix { m } => (false, to_u64(m)?),
        };
        check_dims(
            to_u64(self.latent)?,
            &widths,
            m,
            inversion,
            self.sampling.is_some(),
        )?;
        Ok(())
    }

    /// The checks [`Network::from_bytes`] makes, for a struct built in
    /// memory: dimensions and caps, then the shapes of the vectors and the
    /// agreement of `measurement` with `a`, then every entry finite (in file
    /// order: `W_1 .. W_d`, `A`, `x*`), then `x*` not zero.
    pub fn validate(&self) -> Result<(), NetworkError> {
        self.validate_dimensions()?;

        // Every product below is at most MAX_ENTRIES: no overflow.
        shape(
            "the list of weight matrices".into(),
            self.depth(),
            self.weights.len(),
        )?;
        for (i, w) in self.weights.iter().enumerate() {
            shape(
                format!("W_{}", i + 1),
                self.width(i + 1) * self.width(i),
                w.len(),
            )?;
        }
        match (&self.measurement, &self.a) {
            (Measurement::Identity, Some(_)) => {
                return Err(NetworkError::InconsistentMeasurement(
                    "measurement is Identity but a matrix A is present",
                ))
            }
            (Measurement::Matrix { .. }, None) => {
                return Err(NetworkError::InconsistentMeasurement(
                    "measurement is Matrix but no matrix A is present",
                ))
            }
            (Measurement::Matrix { m }, Some(a)) => {
                shape("A".into(), m * self.width(self.depth()), a.len())?;
            }
            (Measurement::Identity, None) => {}
        }
        shape("x*".into(), self.latent, self.target.len())?;

        for (i, w) in self.weights.iter().enumerate() {
            let cols = self.width(i);
            check_finite(w, |j| format!("W_{}[{},{}]", i + 1, j / cols, j % cols))?;
        }
        if let Some(a) = &self.a {
            let cols = self.width(self.depth());
            check_finite(a, |j| format!("A[{},{}]", j / cols, j % cols))?;
        }
        check_finite(&self.target, |j| format!("x*[{j}]"))?;
        if self.target.iter().all(|&v| v == 0.0) {
            return Err(NetworkError::ZeroTarget);
        }
        Ok(())
    }

    /// The file bytes (layout v1). Deterministic: equal structs (bit for bit)
    /// give equal bytes.
    ///
    /// # Panics
    /// Only on a struct for which [`Network::validate`] fails.
    pub fn to_bytes(&self) -> Vec<u8> {
        if let Err(e) = self.validate() {
            panic!("Network::to_bytes on an invalid network: {e}");
        }
        let mut flags = 0;
        if self.measurement == Measurement::Identity {
            flags |= FLAG_INVERSION;
        }
        if self.sampling.is_some() {
            flags |= FLAG_SAMPLING;
        }
        let m_field = match self.measurement {
            Measurement::Identity => 0,
            Measurement::Matrix { m } => m,
        };
        // validate() bounds every dimension by its cap, so each fits in u32.
        let u32_of = |n: usize| u32::try_from(n).expect("dimension within cap");
        let entries: usize = self.weights.iter().map(Vec::len).sum::<usize>()
            + self.a.as_ref().map_or(0, Vec::len)
            + self.target.len();
        let mut out = Vec::with_capacity(MAX_HEADER as usize + 8 * entries + 12);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&u32_of(self.latent).to_le_bytes());
        out.extend_from_slice(&u32_of(self.depth()).to_le_bytes());
        for &n in &self.widths {
            out.extend_from_slice(&u32_of(n).to_le_bytes());
        }
        out.extend_from_slice(&u32_of(m_field).to_le_bytes());
        let arrays = self
            .weights
            .iter()
            .chain(self.a.as_ref())
            .chain(std::iter::once(&self.target));
        for v in arrays.flatten() {
            out.extend_from_slice(&v.to_le_bytes());
        }
        if let Some(s) = &self.sampling {
            out.extend_from_slice(&s.generator.to_le_bytes());
            out.extend_from_slice(&s.seed.to_le_bytes());
        }
        out
    }

    /// Parses file bytes (layout v1). The header, the caps and the exact file
    /// length are checked before any array is allocated; then every entry.
    pub fn from_bytes(bytes: &[u8]) -> Result<Network, NetworkError> {
        let h = parse_header(bytes, bytes.len() as u64)?;
        let mut at = h.body_start;
        let mut take = |len: usize| -> Vec<f64> {
            let v = bytes[at..at + 8 * len]
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect();
            at += 8 * len;
            v
        };
        let mut weights = Vec::with_capacity(h.widths.len());
        let mut prev = h.k;
        for &n in &h.widths {
            weights.push(take(n * prev));
            prev = n;
        }
        let (measurement, a) = if h.inversion {
            (Measurement::Identity, None)
        } else {
            (Measurement::Matrix { m: h.m }, Some(take(h.m * prev)))
        };
        let target = take(h.k);
        let sampling = h.sampling.then(|| SamplingInfo {
            generator: u32_at(bytes, at),
            seed: u64_at(bytes, at + 4),
        });
        let net = Network {
            latent: h.k,
            widths: h.widths,
            measurement,
            weights,
            a,
            target,
            sampling,
        };
        net.validate()?;
        Ok(net)
    }

    /// Lowercase hex SHA-256 of `bytes`. A network's identity is the SHA-256
    /// of its file bytes.
    pub fn sha256_hex(bytes: &[u8]) -> String {
        let digest = Sha256::digest(bytes);
        let mut s = String::with_capacity(64);
        for b in digest {
            write!(s, "{b:02x}").expect("writing to a String");
        }
        s
    }
}

/// A network read from a file, with its identity.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedNetwork {
    pub network: Network,
    /// Lowercase hex SHA-256 of the file bytes.
    pub sha256: String,
    pub path: PathBuf,
}

/// Why reading or writing a network file failed. `Display` is one line that
/// starts with the path.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{}: file not found", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: is a directory, not a network file", path.display())]
    IsDirectory { path: PathBuf },
    /// A pipe, device or other non-regular file: its length cannot be
    /// checked before reading, so it is not read.
    #[error("{}: not a regular file (a network must be a regular file)", path.display())]
    NotRegular { path: PathBuf },
    /// Any other I/O failure (permission denied, ...).
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a valid network.
    #[error("{}: {source}", path.display())]
    Network {
        path: PathBuf,
        #[source]
        source: NetworkError,
    },
}

impl FileError {
    /// The file concerned.
    pub fn path(&self) -> &Path {
        match self {
            FileError::NotFound { path }
            | FileError::IsDirectory { path }
            | FileError::NotRegular { path }
            | FileError::Io { path, .. }
            | FileError::Network { path, .. } => path,
        }
    }

    /// The format error, if that is what went wrong.
    pub fn network_error(&self) -> Option<&NetworkError> {
        match self {
            FileError::Network { source, .. } => Some(source),
            _ => None,
        }
    }

    fn io(path: &Path, source: std::io::Error) -> FileError {
        let path = path.to_path_buf();
        match source.kind() {
            std::io::ErrorKind::NotFound => FileError::NotFound { path },
            std::io::ErrorKind::IsADirectory => FileError::IsDirectory { path },
            _ => FileError::Io { path, source },
        }
    }
}

/// Reads and parses a file; the error message names the file:
/// `"<path>: <what is wrong>"`.
///
/// Only regular files are read (a pipe or device such as `/dev/zero` is
/// refused before any read). The header is checked against the file's
/// length first, so a file whose header is wrong (or claims more than the
/// caps allow) is rejected without reading the rest; at most the bytes the
/// header allows (plus one, to detect trailing bytes) are ever read.
pub fn read_network_file(path: &Path) -> Result<LoadedNetwork, FileError> {
    let net_err = |source| FileError::Network {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(|e| FileError::io(path, e))?;
    let meta = file.metadata().map_err(|e| FileError::io(path, e))?;
    if meta.is_dir() {
        return Err(FileError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    if !meta.is_file() {
        // A pipe or device (/dev/zero) has no length to check first.
        return Err(FileError::NotRegular {
            path: path.to_path_buf(),
        });
    }
    let mut reader = std::io::BufReader::new(file);
    let mut bytes = Vec::new();
    (&mut reader)
        .take(MAX_HEADER)
        .read_to_end(&mut bytes)
        .map_err(|e| FileError::io(path, e))?;
    // A short read means end of file: then `bytes` is the whole file.
    // Otherwise the length may still change; from_bytes below decides.
    let limit = if (bytes.len() as u64) < MAX_HEADER {
        bytes.len() as u64
    } else {
        meta.len().max(MAX_HEADER)
    };
    parse_header(&bytes, limit).map_err(net_err)?;
    reader
        .take((limit + 1).saturating_sub(bytes.len() as u64))
        .read_to_end(&mut bytes)
        .map_err(|e| FileError::io(path, e))?;
    let network = Network::from_bytes(&bytes).map_err(net_err)?;
    Ok(LoadedNetwork {
        network,
        sha256: Network::sha256_hex(&bytes),
        path: path.to_path_buf(),
    })
}

/// Validates `net`, writes its bytes to `path` (replacing any file there) and
/// returns their SHA-256 (lowercase hex), the network's identity.
pub fn write_network_file(path: &Path, net: &Network) -> Result<String, FileError> {
    net.validate().map_err(|source| FileError::Network {
        path: path.to_path_buf(),
        source,
    })?;
    let bytes = net.to_bytes();
    std::fs::write(path, &bytes).map_err(|e| FileError::io(path, e))?;
    Ok(Network::sha256_hex(&bytes))
}
