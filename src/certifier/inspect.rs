//! `certify inspect`: what a network file holds, and the exact landscape
//! quantities at a point.

use std::fmt::Write as _;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

use crate::exact::dyadic::f64_to_rational;
use crate::exact::eval::{EvalError, ExactNet};
use crate::exact::rational::rational_to_decimal;
use crate::exact::rho::rho_enclosure;
use crate::format::network::{LoadedNetwork, Measurement};

/// Significant digits of the decimals printed next to exact values.
const DIGITS: usize = 17;

fn dec(v: &BigRational) -> String {
    rational_to_decimal(v, DIGITS)
}

fn vec_dec(v: &[BigRational]) -> String {
    let parts: Vec<String> = v.iter().map(dec).collect();
    format!("({})", parts.join(", "))
}

fn vec_exact(v: &[BigRational]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("({})", parts.join(", "))
}

/// `sqrt(v)` for `v >= 0` as a decimal (display only; exact at any
/// magnitude: `|x*|` near 1e300 or 1e-300 is not lost to overflow).
fn sqrt_decimal(v: &BigRational) -> String {
    crate::exact::rational::sqrt_to_decimal(v, DIGITS)
}

/// The report on a network alone.
pub fn describe(loaded: &LoadedNetwork) -> Result<String, EvalError> {
    let net = &loaded.network;
    let en = ExactNet::new(net)?;
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "network      {}", loaded.path.display());
    let _ = writeln!(w, "sha256       {}", loaded.sha256);
    let _ = writeln!(w, "latent k     {}", net.latent);
    let _ = writeln!(w, "depth d      {}", net.widths.len());
    let widths: Vec<String> = net.widths.iter().map(|n| n.to_string()).collect();
    let _ = writeln!(w, "widths       {} -> {}", net.latent, widths.join(" -> "));
    let total: usize = net.widths.iter().sum();
    let _ = writeln!(w, "neurons      {total} ({})", widths.join(" + "));
    match net.measurement {
        Measurement::Identity => {
            let _ = writeln!(w, "measurement  A = I (inversion), m = {}", en.m());
        }
        Measurement::Matrix { m } => {
            let nd = net.widths[net.widths.len() - 1];
            let _ = writeln!(
                w,
                "measurement  A is {m} x {nd} (compressive: m/k = {})",
                m as f64 / net.latent as f64
            );
        }
    }
    match &net.sampling {
        Some(s) if s.generator == crate::certifier::sample::GENERATOR_ID => {
            let _ = writeln!(w, "sampled by   hvcert-sample-v1, seed {}", s.seed);
        }
        Some(s) => {
            let _ = writeln!(
                w,
                "sampled by   generator {} (unknown), seed {}",
                s.generator, s.seed
            );
        }
        None => {}
    }
    let target: Vec<BigRational> = net
        .target
        .iter()
        .map(|&v| f64_to_rational(v).ok_or(EvalError::NonFinite))
        .collect::<Result<_, _>>()?;
    let norm2: BigRational = target.iter().map(|v| v * v).sum();
    let _ = writeln!(w, "x*           {}", vec_dec(&target));
    let _ = writeln!(
        w,
        "|x*|         {} (|x*|^2 = {})",
        sqrt_decimal(&norm2),
        dec(&norm2)
    );
    let width = BigRational::new(BigInt::from(1), BigInt::from(10).pow(30));
    let rho = rho_enclosure(net.widths.len(), &width);
    let mid = (&rho.lo + &rho.hi) / BigRational::from_integer(2.into());
    let _ = writeln!(
        w,
        "rho_d        {} (rigorous enclosure [{}, {}])",
        rational_to_decimal(&mid, 25),
        rational_to_decimal(&rho.lo, 32),
        rational_to_decimal(&rho.hi, 32)
    );
    let centre: Vec<BigRational> = target.iter().map(|v| -(v * &mid)).collect();
    let _ = writeln!(w, "-rho_d x*    {}", vec_dec(&centre));
    let y = en.measurements();
    let y2: BigRational = y.iter().map(|v| v * v).sum();
    let _ = writeln!(w, "|y|          {} (y = A G(x*), exact)", sqrt_decimal(&y2));
    Ok(out)
}

/// The report at one point `x`.
pub fn describe_point(loaded: &LoadedNetwork, x: &[BigRational]) -> Result<String, EvalError> {
    let en = ExactNet::new(&loaded.network)?;
    let mut out = String::new();
    let w = &mut out;
    let f = en.objective(x)?;
    let vbar = en.vbar(x)?;
    let (d, dir_pattern) = en.descent_derivative(x)?;
    let strict = en.strict_pattern(x)?;
    let zeros = en.zero_neurons(x)?;
    let _ = writeln!(w, "at x         {}", vec_dec(x));
    let _ = writeln!(w, "  exact      {}", vec_exact(x));
    let _ = writeln!(w, "f(x)         {}", dec(&f));
    let _ = writeln!(w, "  exact      {f}");
    let _ = writeln!(w, "vbar_x       {}", vec_dec(&vbar));
    let _ = writeln!(w, "  exact      {}", vec_exact(&vbar));
    let verdict = if d.is_negative() {
        "< 0: -vbar is a strict descent direction"
    } else if vbar.iter().all(|v| v.is_zero()) {
        "= 0: vbar = 0, x is a stationary point"
    } else {
        ">= 0: -vbar is NOT a descent direction here"
    };
    let _ = writeln!(w, "D_-vbar f(x) {} ({verdict})", dec(&d));
    let _ = writeln!(w, "  exact      {d}");
    let on: Vec<String> = strict
        .bits
        .iter()
        .zip(&loaded.network.widths)
        .map(|(b, n)| format!("{}/{n}", b.iter().filter(|&&v| v).count()))
        .collect();
    let _ = writeln!(w, "strict on    {} (per layer)", on.join(", "));
    if zeros.is_empty() {
        let _ = writeln!(w, "zero neurons none (x is inside one linear region)");
    } else {
        let list: Vec<String> = zeros
            .iter()
            .map(|n| format!("L{}#{}", n.layer, n.index))
            .collect();
        let _ = writeln!(
            w,
            "zero neurons {} ({}): 2^{} consistent patterns",
            zeros.len(),
            list.join(" "),
            zeros.len()
        );
        let changed = strict
            .bits
            .iter()
            .flatten()
            .zip(dir_pattern.bits.iter().flatten())
            .filter(|(a, b)| a != b)
            .count();
        let _ = writeln!(w, "along -vbar  {changed} zero neuron(s) switch on (F3)");
    }
    // The region point of the strict pattern (F5): a real stationary point of
    // f when it lies strictly inside that region.
    match en.region_point(&strict)? {
        None => {
            let _ = writeln!(w, "region point Q_P singular for the strict pattern");
        }
        Some(xc) => {
            let inside = en.strict_pattern(&xc)? == strict && en.zero_neurons(&xc)?.is_empty();
            let _ = writeln!(
                w,
                "region point x_c = {} ({})",
                vec_dec(&xc),
                if inside {
                    "strictly inside the region: a stationary point of f"
                } else {
                    "outside the region"
                }
            );
        }
    }
    Ok(out)
}
