//! `certify`: sample networks, inspect them (and, later, certify them).

#[global_allocator]
static ALLOC: hvcert::limits::CountingAlloc = hvcert::limits::CountingAlloc;

use std::path::PathBuf;
use std::process::ExitCode;

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::{Parser, Subcommand};
use hvcert::certifier::hunt::{
    certificate as hunt_certificate, hunt, Found, HuntOptions, HuntProgress, HuntResult, KindCount,
};
use hvcert::certifier::inspect::{describe, describe_point};
use hvcert::certifier::rho_mpfr::rho_rational_enclosure;
use hvcert::certifier::sample::{sample_network, SampleSpec};
use hvcert::certifier::search::{default_max_depth, search, Options, Progress, SearchResult};
use hvcert::certifier::shard::{self, shard_info, LoadedPlan, MergeError};
use hvcert::checker::geometry::Excluded;
use hvcert::checker::sharpness::{self, Sharpness};
use hvcert::checker::{check, check_within, CheckError, ExcusedPoint, Report, Unfinished};
use hvcert::cli::{self, threads_arg, time_limit_arg};
use hvcert::exact::dyadic::f64_to_rational;
use hvcert::exact::rational::parse_rational;
use hvcert::exact::rational::rational_to_decimal;
use hvcert::format::certificate::{
    Certificate, Claim, ClaimMode, Counterexample, CounterexampleKind, Verdict,
};
use hvcert::format::network::LoadedNetwork;
use hvcert::format::network::{read_network_file, Measurement};
use hvcert::interop::{self, ImportSpec, MeasurementSource, TargetSource};
use hvcert::limits::{self, Budget};
use num_rational::BigRational;
use num_traits::{Signed, Zero};

/// `writeln!` into a `String` (cannot fail).
macro_rules! outln {
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}

#[derive(Parser)]
#[command(
    name = "certify",
    version,
    about = "Certify the Hand-Voroninski descent landscape of a concrete ReLU network",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    allow_negative_numbers = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    certify: CertifyArgs,
}

#[derive(clap::Args)]
struct CertifyArgs {
    /// The network file (weights.bin).
    #[arg(long, required = true)]
    net: Option<PathBuf>,
    #[command(flatten)]
    claim: ClaimArgs,
    /// Certificate path (default: the network's path with .cert.json).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Deepest bisection (splits from a face to a leaf) [default: 48, or
    /// 16 per latent coordinate where that is more (k = 4: 64)].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=200))]
    max_depth: Option<u32>,
    /// Cells smaller than this (relative to |x*|) are not refined further.
    #[arg(long, default_value = "1/512", allow_hyphen_values = true)]
    resolution: String,
    /// Bound the whole run to about this many seconds: refinement stops
    /// (undecided cells remain) and the self-check gets what is left; a
    /// certificate whose self-check did not finish is written and marked
    /// "not self-checked".
    #[arg(long, allow_hyphen_values = true)]
    time_limit: Option<f64>,
    /// Memory bound in bytes (e.g. 2G, 512M): the self-check stops when it
    /// is reached, and no allocation may pass a quarter more (exit 3).
    #[arg(long, default_value = "2G", allow_hyphen_values = true)]
    max_memory: String,
    /// Skip the self-check with the independent checker.
    #[arg(long)]
    no_verify: bool,
    /// Decide every cell with the checker's exact rules only (no binary64 or
    /// MPFR tier); slower, for comparison.
    #[arg(long)]
    exact_only: bool,
    /// No progress display.
    #[arg(long)]
    quiet: bool,
    /// Show progress even when standard error is not a terminal.
    #[arg(long, conflicts_with = "quiet")]
    progress: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Certify one shard of a plan made by `certify plan`: its parts only,
    /// with the plan's claim, resolution and depth (needs --shard).
    #[arg(
        long,
        requires = "shard",
        conflicts_with_all = ["eps", "eps1", "eps2", "resolution", "max_depth"]
    )]
    plan: Option<PathBuf>,
    /// Which shard of the plan: I/S, 0 <= I < S.
    #[arg(long, requires = "plan")]
    shard: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Plan a sharded run: a pilot search at 4x the resolution estimates the
    /// work, the faces are cut into parts and dealt to the shards (largest
    /// first, to the least loaded). Every shard (`certify --plan P --shard
    /// I/S`) reads the plan.
    #[command(allow_negative_numbers = true)]
    Plan(PlanArgs),
    /// Merge the shard certificates of one plan into one ordinary
    /// certificate and self-check it. Exit 1 (one line naming the shard)
    /// when the shards do not make a certificate: missing, duplicate, of
    /// another network or plan, or rejected by the checker.
    Merge(MergeArgs),
    /// Draw a network from the paper's random model, reproducibly.
    #[command(allow_negative_numbers = true)]
    Sample {
        /// Latent dimension k.
        #[arg(long)]
        latent: usize,
        /// Layer widths n_1,...,n_d.
        #[arg(long, value_delimiter = ',', required = true)]
        widths: Vec<usize>,
        /// Number of measurements m (a dense Gaussian A).
        #[arg(
            long,
            conflicts_with = "inversion",
            required_unless_present = "inversion"
        )]
        measurements: Option<usize>,
        /// Use A = I (the inversion case).
        #[arg(long)]
        inversion: bool,
        #[arg(long)]
        seed: u64,
        /// x* as comma-separated decimals (default: a random direction of norm 1).
        #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
        target: Option<Vec<f64>>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Search for counterexamples fast (binary64), each confirmed exactly;
    /// writes a `violated` certificate for the best one.
    #[command(long_about = HUNT_ABOUT, allow_negative_numbers = true)]
    Hunt(HuntArgs),
    /// Import a bias-free ReLU network saved from PyTorch or NumPy
    /// (safetensors, .npz, .npy; kind from the contents) into a network file.
    #[command(allow_negative_numbers = true)]
    Import {
        /// The saved tensors.
        file: PathBuf,
        /// The weight tensors in forward order, [out, in] each (default: the
        /// nn.Sequential names [prefix.]0.weight, [prefix.]2.weight, ...).
        #[arg(long, value_delimiter = ',')]
        layers: Option<Vec<String>>,
        /// The measurement matrix A, [m, n_d].
        #[arg(
            long,
            conflicts_with = "inversion",
            required_unless_present = "inversion"
        )]
        measurements_tensor: Option<String>,
        /// Use A = I (the inversion case).
        #[arg(long)]
        inversion: bool,
        /// x* from a tensor of shape [k].
        #[arg(long, conflicts_with = "target", required_unless_present = "target")]
        target_tensor: Option<String>,
        /// x* as comma-separated decimals.
        #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
        target: Option<Vec<f64>>,
        /// The network file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a network file's matrices as a NumPy .npz (0.weight, 1.weight, ...,
    /// A, x_star; float64), for NumPy or PyTorch.
    Export {
        /// The network file.
        file: PathBuf,
        /// The .npz to write.
        #[arg(long)]
        npz: PathBuf,
    },
    /// Draw a certificate: for k = 2 the latent plane (cells by rule, the
    /// balls, x*, -rho_d x*, stationary points, counterexample); for any k
    /// the cells by box width and distance to the centres. PNG or SVG.
    Plot {
        /// The certificate.
        cert: PathBuf,
        /// The network file (default: the certificate's path hint).
        #[arg(long)]
        net: Option<PathBuf>,
        /// The picture to write (.png or .svg).
        #[arg(long)]
        out: PathBuf,
    },
    /// Run a grid of sampled networks (architectures x measurements x seeds)
    /// through sample, certify (sharpest radii) and verify; write a table
    /// (CSV, JSON) and figures. Resumable: verified certificates are reused.
    Sweep {
        #[arg(long)]
        latent: usize,
        /// One architecture n_1,...,n_d; repeat for more.
        #[arg(long, required = true)]
        widths: Vec<String>,
        /// Numbers of measurements, `I` for A = I (e.g. 10,50,I).
        #[arg(long, value_delimiter = ',', required = true)]
        measurements: Vec<String>,
        /// Seeds: a range A-B or a list (1-10, or 1,5,9).
        #[arg(long)]
        seeds: String,
        /// The folder for networks, certificates, table and figures.
        #[arg(long)]
        out_dir: PathBuf,
        /// Seconds per network for the search.
        #[arg(long, default_value_t = 60.0)]
        time_limit: f64,
        #[arg(long, default_value = "1/512")]
        resolution: String,
        /// [default: 48, or 16 per latent coordinate where that is more]
        #[arg(long)]
        max_depth: Option<u32>,
    },
    /// Show a network's dimensions, hash, |x*| and rho_d, and exact values at a point.
    Inspect {
        file: PathBuf,
        /// A point x as comma-separated rationals (e.g. 1/2,-0.25,3).
        #[arg(long, allow_hyphen_values = true)]
        at: Option<String>,
    },
}

const HUNT_ABOUT: &str = "\
Search for counterexamples to the claim (SPEC §2) in binary64, and confirm \
every candidate exactly before reporting it.

Where it looks: a great circle of directions (k = 2: the one circle, \
finely, so every linear region and crease wider than 2^-14 rad; k >= 3: \
random circles), and --starts descents along -vbar in binary64 \
(backtracking line search; half of the starts near -rho_d x*).

- stationary: for every pattern met, the exact region point \
x_c = Q_P^-1 b_P; a counterexample when vbar = 0 there exactly, no neuron \
is exactly zero and x_c is outside E.
- point: for every crease met (two patterns differing in one neuron v) and \
where a descent stalls, exact points on v's zero set: the minimiser of f \
on it, the projection of the point met, and the minimiser along their ray \
of <g_P0, g_P1>; screened in binary64 for a valley, a counterexample when \
D_-vbar f(x) >= 0 exactly (F3) and x is outside E.
- zero_direction: random directions w and -b_P for their patterns; a \
counterexample when <A G(w), y> <= 0 exactly (P2 fails).

Candidates are counted per kind (found in binary64 / confirmed exactly); \
at most 32 confirmed counterexamples are kept per kind.

The radii default to the paper's form --eps 1/10 (both balls 0.1 |x*|), \
claim mode given. When a counterexample is confirmed, a certificate with \
verdict violated (the counterexample and a trivial cover of undecided \
cells) is self-checked with the independent checker and written (default: \
the network's path with .hunt.cert.json); `verify` accepts it. When none is \
found the hunt says \"no counterexample found\", writes nothing and exits 0: \
that is not a proof (run certify for one). Exit status 2 on unusable input.";

#[derive(clap::Args)]
struct HuntArgs {
    /// The network file (weights.bin).
    #[arg(long)]
    net: PathBuf,
    /// Number of random descent starts.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    starts: u64,
    /// Seed of the starts (ChaCha20).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// One relative radius for both balls (default 1/10, the paper's form).
    #[arg(long, conflicts_with_all = ["eps1", "eps2"])]
    eps: Option<String>,
    /// Relative radius of the ball around x* (with --eps2).
    #[arg(long, requires = "eps2")]
    eps1: Option<String>,
    /// Relative radius of the ball around -rho_d x* (with --eps1).
    #[arg(long, requires = "eps1")]
    eps2: Option<String>,
    /// Certificate path (default: the network's path with .hunt.cert.json).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Put a counterexample of this kind in the certificate when one is confirmed.
    #[arg(long, value_enum)]
    prefer: Option<KindArg>,
    /// Descent steps per start.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_steps: u64,
    /// Start no new descent after this many seconds.
    #[arg(long)]
    time_limit: Option<f64>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress display.
    #[arg(long)]
    quiet: bool,
    /// Show progress even when standard error is not a terminal.
    #[arg(long, conflicts_with = "quiet")]
    progress: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// The claim's radii: `--eps E` or `--eps1 E1 --eps2 E2` (neither: the
/// sharpest radii).
#[derive(clap::Args)]
struct ClaimArgs {
    /// Prove the paper's form with one relative radius for both balls
    /// (default: the sharpest radii).
    #[arg(long, conflicts_with_all = ["eps1", "eps2"], allow_hyphen_values = true)]
    eps: Option<String>,
    /// Relative radius of the ball around x* (with --eps2).
    #[arg(long, requires = "eps2", allow_hyphen_values = true)]
    eps1: Option<String>,
    /// Relative radius of the ball around -rho_d x* (with --eps1).
    #[arg(long, requires = "eps1", allow_hyphen_values = true)]
    eps2: Option<String>,
}

impl ClaimArgs {
    /// `None`: the sharpest radii.
    fn radii(&self) -> Result<Option<(BigRational, BigRational)>, String> {
        eps_args(&self.eps, &self.eps1, &self.eps2)
    }
}

#[derive(clap::Args)]
struct PlanArgs {
    /// The network file.
    #[arg(long)]
    net: PathBuf,
    /// Number of shards.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=65536))]
    shards: u32,
    /// The plan file to write.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    claim: ClaimArgs,
    /// Deepest bisection of the shards' searches [default: 48, or 16 per
    /// latent coordinate where that is more].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=200))]
    max_depth: Option<u32>,
    /// The shards' resolution (the pilot uses 4x this).
    #[arg(long, default_value = "1/512", allow_hyphen_values = true)]
    resolution: String,
    /// Stop the pilot search after this many seconds: the plan is still
    /// written (its parts tile the faces), with rougher cost estimates.
    #[arg(long, allow_hyphen_values = true)]
    time_limit: Option<f64>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress display.
    #[arg(long)]
    quiet: bool,
}

#[derive(clap::Args)]
struct MergeArgs {
    /// The shard certificates (all shards of one plan).
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// The merged certificate to write.
    #[arg(long)]
    out: PathBuf,
    /// The plan: when given, every shard must be of this plan and cover
    /// exactly the parts it assigns.
    #[arg(long)]
    plan: Option<PathBuf>,
    /// The network file (default: the first shard's path hint).
    #[arg(long)]
    net: Option<PathBuf>,
    /// Write the merged certificate without the self-check.
    #[arg(long)]
    no_verify: bool,
    /// Worker threads for the refinement rounds and the self-check
    /// (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Bound the self-check to about this many seconds (exit 3 past it).
    #[arg(long, allow_hyphen_values = true)]
    time_limit: Option<f64>,
    /// Memory bound of the self-check in bytes (e.g. 2G).
    #[arg(long, default_value = "2G", allow_hyphen_values = true)]
    max_memory: String,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum KindArg {
    Stationary,
    Point,
    ZeroDirection,
}

fn parse_point(s: &str, k: usize) -> Result<Vec<BigRational>, String> {
    let v: Vec<BigRational> = s
        .split(',')
        .map(|p| parse_rational(p).ok_or_else(|| format!("--at: '{p}' is not a rational number")))
        .collect::<Result<_, _>>()?;
    if v.len() != k {
        return Err(format!(
            "--at: expected {k} coordinates (k = {k}), got {}",
            v.len()
        ));
    }
    Ok(v)
}

fn run(cli: Cli) -> Result<(), String> {
    let Some(command) = cli.command else {
        return run_certify(&cli.certify);
    };
    match command {
        Command::Plan(p) => run_plan(&p),
        Command::Merge(_) => unreachable!("main runs merges"),
        Command::Sample {
            latent,
            widths,
            measurements,
            inversion,
            seed,
            target,
            out,
        } => {
            let measurement = match (measurements, inversion) {
                (_, true) => Measurement::Identity,
                (Some(m), false) => Measurement::Matrix { m },
                (None, false) => return Err("give --measurements M or --inversion".into()),
            };
            if let Some(t) = &target {
                if t.len() != latent {
                    return Err(format!(
                        "--target: expected {latent} values, got {}",
                        t.len()
                    ));
                }
            }
            let spec = SampleSpec {
                latent,
                widths,
                measurement,
                seed,
                target,
            };
            // Check the dimensions before drawing anything.
            let probe = hvcert::format::network::Network {
                latent: spec.latent,
                widths: spec.widths.clone(),
                measurement: spec.measurement.clone(),
                weights: Vec::new(),
                a: None,
                target: Vec::new(),
                sampling: None,
            };
            probe
                .validate_dimensions()
                .map_err(|e| format!("sample: {e}"))?;
            let net = sample_network(&spec);
            net.validate().map_err(|e| format!("sample: {e}"))?;
            cli::check_output_path(&out)?;
            let bytes = net.to_bytes();
            cli::write_atomically(&out, &bytes)?;
            let hash = hvcert::format::network::Network::sha256_hex(&bytes);
            print_out(&format!("wrote {} (sha256 {hash})\n", out.display()));
            Ok(())
        }
        Command::Hunt(h) => run_hunt(&h),
        Command::Import {
            file,
            layers,
            measurements_tensor,
            inversion: _,
            target_tensor,
            target,
            out,
        } => {
            let spec = ImportSpec {
                layers,
                measurement: measurements_tensor
                    .map_or(MeasurementSource::Identity, MeasurementSource::Tensor),
                target: match (target_tensor, target) {
                    (Some(t), _) => TargetSource::Tensor(t),
                    (None, Some(v)) => TargetSource::Values(v),
                    (None, None) => return Err("give --target-tensor NAME or --target".into()),
                },
            };
            cli::check_output_path(&out)?;
            cli::refuse_overwriting_inputs(&out, &[&file])?;
            let bytes = interop::read_input(&file)?;
            let (kind, tensors) =
                interop::read_tensors(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
            let net = interop::build_network(&tensors, &spec)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            let bytes = net.to_bytes();
            cli::write_atomically(&out, &bytes)?;
            let widths: Vec<String> = net.widths.iter().map(|n| n.to_string()).collect();
            print_out(&format!(
                "imported {} ({}): k = {}, widths {}, {}; wrote {} (sha256 {})\n",
                file.display(),
                kind.name(),
                net.latent,
                widths.join("/"),
                match net.measurement {
                    Measurement::Identity => "A = I".to_string(),
                    Measurement::Matrix { m } => format!("m = {m}"),
                },
                out.display(),
                hvcert::format::network::Network::sha256_hex(&bytes)
            ));
            Ok(())
        }
        Command::Plot { cert, net, out } => {
            cli::check_output_path(&out)?;
            let text = hvcert::format::certificate::read_certificate_file(&cert)?;
            let c =
                Certificate::from_json(&text).map_err(|e| format!("{}: {e}", cert.display()))?;
            let net_path = match (net, &c.network_path) {
                (Some(p), _) => p,
                (None, Some(hint)) => cert.parent().unwrap_or(Path::new(".")).join(hint),
                (None, None) => {
                    return Err("the certificate names no network path: give --net FILE".into())
                }
            };
            cli::refuse_overwriting_inputs(&out, &[&cert, &net_path])?;
            let loaded = read_network_file(&net_path).map_err(|e| e.to_string())?;
            if loaded.sha256 != c.network_sha256 {
                return Err(format!(
                    "{}: the certificate is for network {}, not this file",
                    net_path.display(),
                    c.network_sha256
                ));
            }
            let s = hvcert::certifier::plot::plot(&c, &loaded.network, &out)?;
            print_out(&format!(
                "wrote {} ({}, {} cells{})\n",
                out.display(),
                s.kind,
                s.cells,
                if s.labels {
                    ""
                } else {
                    "; no font found: no labels"
                }
            ));
            Ok(())
        }
        Command::Sweep {
            latent,
            widths,
            measurements,
            seeds,
            out_dir,
            time_limit,
            resolution,
            max_depth,
        } => {
            let widths = widths
                .iter()
                .map(|w| {
                    w.split(',')
                        .map(|n| n.trim().parse::<usize>())
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|_| format!("--widths: '{w}' is not a list of widths"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let measurements = measurements
                .iter()
                .map(|m| match m.trim() {
                    "I" | "i" => Ok(None),
                    n => n
                        .parse::<usize>()
                        .map(Some)
                        .map_err(|_| format!("--measurements: '{m}' is not a number or I")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let seeds = parse_seeds(&seeds)?;
            let spec = hvcert::certifier::sweep::SweepSpec {
                latent,
                widths,
                measurements,
                seeds,
                time_limit: time_limit_arg(Some(time_limit))?.expect("given"),
                resolution: positive_rational("--resolution", &resolution)?,
                max_depth: max_depth.unwrap_or_else(|| default_max_depth(latent)),
            };
            hvcert::certifier::sweep::validate(&spec)?;
            // Every network of the grid must be valid before any work.
            for w in &spec.widths {
                for m in &spec.measurements {
                    let probe = hvcert::format::network::Network {
                        latent,
                        widths: w.clone(),
                        measurement: m.map_or(Measurement::Identity, |m| Measurement::Matrix { m }),
                        weights: Vec::new(),
                        a: None,
                        target: Vec::new(),
                        sampling: None,
                    };
                    probe
                        .validate_dimensions()
                        .map_err(|e| format!("sweep: {e}"))?;
                }
            }
            if !out_dir.is_dir() {
                std::fs::create_dir_all(&out_dir)
                    .map_err(|e| format!("{}: {e}", out_dir.display()))?;
            }
            let rows =
                hvcert::certifier::sweep::run(&spec, &out_dir, &mut |line| eprintln!("{line}"))?;
            let mut out = String::new();
            outln!(
                out,
                "sweep        {} networks into {}",
                rows.len(),
                out_dir.display()
            );
            outln!(out, "m      expansivity  paper claim proved  median eps2*");
            for (m, e, proved, median) in hvcert::certifier::sweep::summary(&rows) {
                outln!(
                    out,
                    "{m:<6} {e:>11.2}  {:>17.0}%  {median:>12.4}",
                    proved * 100.0
                );
            }
            outln!(
                out,
                "table        sweep.csv, sweep.json; figures paper-claim.png, eps2.png"
            );
            print_out(&out);
            Ok(())
        }
        Command::Export { file, npz } => {
            cli::check_output_path(&npz)?;
            cli::refuse_overwriting_inputs(&npz, &[&file])?;
            let loaded = read_network_file(&file).map_err(|e| e.to_string())?;
            let bytes = interop::export_npz(&loaded.network)?;
            cli::write_atomically(&npz, &bytes)?;
            print_out(&format!(
                "wrote {} ({})\n",
                npz.display(),
                interop::export_names(&loaded.network).join(", ")
            ));
            Ok(())
        }
        Command::Inspect { file, at } => {
            let loaded = read_network_file(&file).map_err(|e| e.to_string())?;
            print_out(&describe(&loaded).map_err(|e| format!("{}: {e}", file.display()))?);
            if let Some(at) = at {
                let x = parse_point(&at, loaded.network.latent)?;
                print_out(
                    &describe_point(&loaded, &x).map_err(|e| format!("{}: {e}", file.display()))?,
                );
            }
            Ok(())
        }
    }
}

/// `--seeds`: `A-B` (inclusive) or a comma-separated list.
fn parse_seeds(s: &str) -> Result<Vec<u64>, String> {
    let bad = || format!("--seeds: '{s}' is not a range A-B or a list of seeds");
    if let Some((a, b)) = s.split_once('-') {
        let (a, b): (u64, u64) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        if a > b || b - a >= 100_000 {
            return Err(bad());
        }
        return Ok((a..=b).collect());
    }
    s.split(',')
        .map(|x| x.trim().parse().map_err(|_| bad()))
        .collect()
}

fn positive_rational(flag: &str, s: &str) -> Result<BigRational, String> {
    let v = parse_rational(s).ok_or_else(|| format!("{flag}: '{s}' is not a rational number"))?;
    if v.is_negative() {
        return Err(format!("{flag}: must be >= 0, got {s}"));
    }
    Ok(v)
}

/// `--eps E` or `--eps1 E1 --eps2 E2` (`None`: neither given).
fn eps_args(
    eps: &Option<String>,
    eps1: &Option<String>,
    eps2: &Option<String>,
) -> Result<Option<(BigRational, BigRational)>, String> {
    Ok(match (eps, eps1, eps2) {
        (Some(e), _, _) => {
            let e = positive_rational("--eps", e)?;
            Some((e.clone(), e))
        }
        (None, Some(e1), Some(e2)) => Some((
            positive_rational("--eps1", e1)?,
            positive_rational("--eps2", e2)?,
        )),
        _ => None,
    })
}

/// `--plan P --shard I/S`: the plan read and validated, and `I`.
fn read_shard_args(plan_path: &Path, shard: &str) -> Result<(LoadedPlan, u32), String> {
    let plan = shard::read_plan(plan_path)?;
    let bad = || format!("--shard: expected I/S with 0 <= I < S, got {shard:?}");
    let (i, n) = shard.split_once('/').ok_or_else(bad)?;
    let (i, n): (u32, u32) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if i >= n {
        return Err(bad());
    }
    if n != plan.plan.shards {
        return Err(format!(
            "--shard {shard}: the plan {} has {} shards",
            plan_path.display(),
            plan.plan.shards
        ));
    }
    Ok((plan, i))
}

/// The plan must be for this network file (hash and latent dimension).
fn plan_for_network(
    plan_path: &Path,
    plan: &LoadedPlan,
    net_path: &Path,
    loaded: &LoadedNetwork,
) -> Result<(), String> {
    let n = &plan.plan.network;
    if n.sha256 == loaded.sha256 && n.latent == loaded.network.latent {
        return Ok(());
    }
    Err(format!(
        "{}: the plan is for network {}…, not {} ({}…)",
        plan_path.display(),
        &n.sha256[..12],
        net_path.display(),
        &loaded.sha256[..12]
    ))
}

/// `certify plan`: the pilot search, then the plan file.
fn run_plan(a: &PlanArgs) -> Result<(), String> {
    let eps = a.claim.radii()?;
    let resolution = positive_rational("--resolution", &a.resolution)?;
    if resolution.is_zero() {
        return Err("--resolution: must be > 0".into());
    }
    threads_arg(a.threads)?;
    let time_limit = time_limit_arg(a.time_limit)?;
    let plan_start = std::time::Instant::now();
    let loaded = read_network_file(&a.net).map_err(|e| e.to_string())?;
    cli::check_output_path(&a.out)?;
    cli::refuse_overwriting_inputs(&a.out, &[&a.net])?;
    let (rho_lo, rho_hi) = rho_rational_enclosure(loaded.network.widths.len(), 128);
    preflight(&loaded, eps.as_ref(), (&rho_lo, &rho_hi))?;
    let opts = Options {
        eps,
        max_depth: a
            .max_depth
            .unwrap_or_else(|| default_max_depth(loaded.network.latent)),
        resolution,
        time_limit: None,
        rho: (rho_lo, rho_hi),
        exact_only: false,
        parts: None,
        resume: None,
        // The pilot stays under the default memory bound, as `certify`
        // does, and under --time-limit from the start of the command (past
        // either it stops: its estimates are rougher).
        budget: Budget {
            deadline: time_limit.and_then(|t| plan_start.checked_add(t)),
            max_bytes: Some(limits::DEFAULT_MAX_MEMORY),
        },
    };
    limits::set_hard_limit(Some(limits::DEFAULT_MAX_MEMORY));
    let progress = Progress::default();
    let show = !a.quiet && std::io::stderr().is_terminal();
    let plan = std::thread::scope(|scope| {
        if show {
            scope.spawn(|| progress_display(&progress));
        }
        let p = shard::make_plan(&loaded, &opts, a.shards, &progress);
        progress.done.store(true, Ordering::Relaxed);
        p
    })?;
    let text = plan.to_json();
    cli::write_atomically(&a.out, text.as_bytes())?;
    let est = |key: &str| plan.pilot.get(key).map_or("?".into(), |v| v.to_string());
    let stopped = match plan.pilot.get("stopped") {
        Some(why) => format!(
            " (the pilot stopped: {}; rougher estimates)",
            why.as_str().unwrap_or("?")
        ),
        None => String::new(),
    };
    print_out(&format!(
        "plan         {} ({} shards, {} parts, sha256 {})\npilot        {} nodes at resolution {}, {:.1} s; estimated largest shard / mean = {}{stopped}\nrun          certify --net {} --plan {} --shard I/{} (I = 0..{}), then certify merge\n",
        a.out.display(),
        plan.shards,
        plan.parts.len(),
        hvcert::format::network::Network::sha256_hex(text.as_bytes()),
        est("nodes"),
        est("resolution").trim_matches('"'),
        plan_start.elapsed().as_secs_f64(),
        est("estimated_max_over_mean").trim_matches('"'),
        a.net.display(),
        a.out.display(),
        plan.shards,
        plan.shards - 1
    ));
    Ok(())
}

/// `certify merge`: read, merge, self-check, write. Exit 1 when the shards
/// do not make a certificate, 2 on unusable input, 3 when the self-check
/// did not finish (nothing written).
fn run_merge(a: &MergeArgs) -> Result<ExitCode, String> {
    let rejected = |m: String| {
        eprintln!("certify merge: REJECTED: {m}");
        Ok(ExitCode::from(1))
    };
    let start = std::time::Instant::now();
    let time_limit = time_limit_arg(a.time_limit)?;
    let max_memory =
        limits::parse_bytes(&a.max_memory).map_err(|e| format!("--max-memory: {e}"))?;
    limits::set_hard_limit(Some(max_memory));
    threads_arg(a.threads)?;
    let budget = Budget {
        deadline: time_limit.and_then(|t| start.checked_add(t)),
        max_bytes: Some(max_memory),
    };
    cli::check_output_path(&a.out)?;
    let shards = match shard::read_shards(&a.shards) {
        Ok(s) => s,
        Err(MergeError::Rejected(m)) => return rejected(m),
        Err(MergeError::Unusable(m)) => return Err(m),
    };
    let net_path = match (&a.net, &shards[0].cert.network_path) {
        (Some(p), _) => p.clone(),
        (None, Some(hint)) => shards[0].path.parent().unwrap_or(Path::new(".")).join(hint),
        (None, None) => {
            return Err(format!(
                "{}: names no network path: give --net FILE",
                shards[0].path.display()
            ))
        }
    };
    let mut inputs: Vec<&Path> = a.shards.iter().map(PathBuf::as_path).collect();
    inputs.push(&net_path);
    if let Some(p) = &a.plan {
        inputs.push(p);
    }
    cli::refuse_overwriting_inputs(&a.out, &inputs)?;
    let loaded = read_network_file(&net_path).map_err(|e| e.to_string())?;
    let plan = a.plan.as_deref().map(shard::read_plan).transpose()?;
    if let (Some(path), Some(p)) = (&a.plan, &plan) {
        if let Err(m) = plan_for_network(path, p, &net_path, &loaded) {
            return rejected(m);
        }
    }
    // Which shard file brought which part (to name the shard behind a
    // rejected cell).
    let owners: Vec<_> = shards
        .iter()
        .flat_map(|s| {
            let name = format!(
                "{} (shard {})",
                s.path.display(),
                s.cert.shard.as_ref().map_or(0, |sh| sh.index)
            );
            s.cert
                .cover
                .iter()
                .flat_map(|c| c.faces.iter())
                .map(move |f| (f.face, f.path.clone(), name.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut merged = match shard::merge(
        shards,
        &loaded.network,
        &loaded.sha256,
        plan.as_ref(),
        &budget,
    ) {
        Ok(m) => m,
        Err(MergeError::Rejected(m)) => return rejected(m),
        Err(MergeError::Unusable(m)) => return Err(m),
    };
    merged.certificate.network_path = path_hint(&net_path, &a.out);
    let text = merged.certificate.to_json();
    let report = if a.no_verify {
        None
    } else {
        let cert = Certificate::from_json(&text)
            .map_err(|e| format!("internal error: the merged certificate does not parse: {e}"))?;
        match check_within(&cert, &loaded.network, &loaded.sha256, &budget) {
            Ok(r) => Some(r),
            Err(CheckError::Rejected(r)) => {
                let who = shard::locate_rejection(&r.0, &owners)
                    .map_or(String::new(), |s| format!("{s}: "));
                return rejected(format!("{who}{}", r.0));
            }
            Err(CheckError::Unfinished(u)) => {
                eprintln!("certify merge: NOT CHECKED (nothing written): {u}");
                return Ok(ExitCode::from(3));
            }
        }
    };
    cli::write_atomically(&a.out, text.as_bytes())?;
    let c = &merged.certificate;
    let spread = shard::time_spread(&merged.shards);
    if a.json {
        let v = serde_json::json!({
            "verdict": c.verdict.name(),
            "network": loaded.sha256,
            "eps_x_star": c.claim.eps_x_star.to_string(),
            "eps_rho": c.claim.eps_rho.to_string(),
            "shards": merged.shards.iter().map(|s| serde_json::json!({
                "file": s.0.display().to_string(), "verdict": s.1.name(), "certify_seconds": s.2,
            })).collect::<Vec<_>>(),
            "shard_max_over_mean": spread.filter(|s| s.1 > 0.0).map(|(max, mean)| max / mean),
            "certificate": a.out.display().to_string(),
            "self_check": if report.is_some() { "verified" } else { "skipped" },
            "verify_seconds": report.as_ref().map(|r| r.seconds),
        });
        print_out(&format!("{v}\n"));
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    outln!(out, "{}", network_line(&loaded));
    outln!(
        out,
        "merged       {} shards: verdict {}, eps1* = {}, eps2* = {}{}",
        merged.shards.len(),
        c.verdict.name().to_uppercase(),
        rational_to_decimal(&c.claim.eps_x_star, 6),
        rational_to_decimal(&c.claim.eps_rho, 6),
        if c.claim.mode == ClaimMode::Given {
            " (given)"
        } else {
            " (sharpest: refined over all the shards' cells)"
        }
    );
    for (i, (path, verdict, s)) in merged.shards.iter().enumerate() {
        outln!(
            out,
            "shard {i:<6} {} {} {}",
            path.display(),
            verdict.name(),
            s.map_or("? s".into(), |v| format!("{v:.2} s"))
        );
    }
    if let Some((max, mean)) = spread {
        outln!(
            out,
            "shard times  max {max:.2} s, mean {mean:.2} s, max/mean {:.2}",
            if mean > 0.0 { max / mean } else { 1.0 }
        );
    }
    outln!(
        out,
        "certificate  {} ({} bytes){}",
        a.out.display(),
        text.len(),
        match &report {
            Some(r) => format!(", self-check VERIFIED in {:.2} s", r.seconds),
            None => ", not self-checked (--no-verify)".into(),
        }
    );
    print_out(&out);
    Ok(ExitCode::SUCCESS)
}

fn run_certify(a: &CertifyArgs) -> Result<(), String> {
    let net_path = a
        .net
        .as_ref()
        .ok_or("give --net FILE (or a subcommand; see --help)")?;
    // A shard takes its claim and search settings from the plan.
    let shard = match (&a.plan, &a.shard) {
        (Some(plan), Some(shard)) => Some(read_shard_args(plan, shard)?),
        _ => None,
    };
    let (eps, resolution, max_depth) = match &shard {
        Some((plan, _)) => (
            plan.eps.clone(),
            plan.resolution.clone(),
            Some(plan.plan.search.max_depth),
        ),
        None => (
            a.claim.radii()?,
            positive_rational("--resolution", &a.resolution)?,
            a.max_depth,
        ),
    };
    if resolution.is_zero() {
        return Err("--resolution: must be > 0".into());
    }
    let run_start = std::time::Instant::now();
    let time_limit = time_limit_arg(a.time_limit)?;
    let max_memory =
        limits::parse_bytes(&a.max_memory).map_err(|e| format!("--max-memory: {e}"))?;
    threads_arg(a.threads)?;
    limits::set_hard_limit(Some(max_memory));
    // The whole run's budget: the search's time limit counts from its own
    // start (a moment later), the self-check gets what is left.
    let budget = Budget {
        deadline: time_limit.and_then(|t| run_start.checked_add(t)),
        max_bytes: Some(max_memory),
    };
    let loaded = read_network_file(net_path).map_err(|e| e.to_string())?;
    if let (Some(path), Some((plan, _))) = (&a.plan, &shard) {
        plan_for_network(path, plan, net_path, &loaded)?;
    }
    let out_path = a.out.clone().unwrap_or_else(|| match &shard {
        Some((_, i)) => net_path.with_extension(format!("shard-{i}.cert.json")),
        None => net_path.with_extension("cert.json"),
    });
    // Fail before the search, not after it.
    cli::check_output_path(&out_path)?;
    let mut inputs: Vec<&Path> = vec![net_path];
    if let Some(plan) = &a.plan {
        inputs.push(plan);
    }
    cli::refuse_overwriting_inputs(&out_path, &inputs)?;
    let hint = path_hint(net_path, &out_path);
    let (rho_lo, rho_hi) = rho_rational_enclosure(loaded.network.widths.len(), 128);
    preflight(&loaded, eps.as_ref(), (&rho_lo, &rho_hi))?;
    let mut opts = Options {
        eps,
        max_depth: max_depth.unwrap_or_else(|| default_max_depth(loaded.network.latent)),
        resolution,
        time_limit,
        rho: (rho_lo, rho_hi),
        exact_only: a.exact_only,
        parts: shard.as_ref().map(|(plan, i)| plan.shard_parts(*i)),
        resume: None,
        // The search polls the run's memory bound and deadline (the whole
        // search, post-processing included); the self-check gets what is left.
        budget,
    };
    let show = a.progress || (!a.quiet && !a.json && std::io::stderr().is_terminal());
    let run_search = |opts: &Options| {
        let progress = Progress::default();
        std::thread::scope(|scope| {
            if show {
                scope.spawn(|| progress_display(&progress));
            }
            let r = search(
                &loaded.network,
                &loaded.sha256,
                hint.clone(),
                opts,
                &progress,
            );
            progress.done.store(true, Ordering::Relaxed);
            let mut r = r;
            r.certificate.shard = shard.as_ref().map(|(plan, i)| shard_info(plan, *i));
            r
        })
    };
    let mut result = run_search(&opts);
    let mut text = result.certificate.to_json();
    let mut unfinished = None;
    let check_report = if a.no_verify {
        None
    } else {
        loop {
            // Self-check through the file format, exactly as `verify` reads it.
            let cert = Certificate::from_json(&text)
                .map_err(|e| format!("internal error: the certificate does not parse: {e}"))?;
            match check_within(&cert, &loaded.network, &loaded.sha256, &budget) {
                Ok(r) => break Some(r),
                // Out of time or memory: the certificate is written, marked
                // as not self-checked (never as checked).
                Err(CheckError::Unfinished(u)) => {
                    unfinished = Some(u);
                    break None;
                }
                // The fast tiers prove what the exact rule should accept; if
                // the checker disagrees anyway, search again exactly (in
                // what is left of the time limit).
                Err(CheckError::Rejected(r)) if !opts.exact_only => {
                    eprintln!(
                        "certify: the checker rejects a cell the fast tiers proved ({}); searching again with the exact rules",
                        r.0
                    );
                    opts.exact_only = true;
                    if let Some(left) = budget.remaining() {
                        opts.time_limit = Some(left.max(Duration::from_millis(1)));
                    }
                    result = run_search(&opts);
                    text = result.certificate.to_json();
                }
                Err(CheckError::Rejected(r)) => {
                    return Err(format!(
                        "internal error: the checker rejects the certificate, not written: {}",
                        r.0
                    ))
                }
            }
        }
    };
    cli::write_atomically(&out_path, text.as_bytes())?;
    print_summary(
        a,
        &loaded,
        &result,
        &out_path,
        text.len(),
        check_report.as_ref(),
        unfinished.as_ref(),
    );
    Ok(())
}

fn run_hunt(a: &HuntArgs) -> Result<(), String> {
    // The paper's form with eps = 1/10 unless given.
    let eps = eps_args(&a.eps, &a.eps1, &a.eps2)?.unwrap_or_else(|| {
        let e = BigRational::new(1.into(), 10.into());
        (e.clone(), e)
    });
    let time_limit = time_limit_arg(a.time_limit)?;
    threads_arg(a.threads)?;
    let loaded = read_network_file(&a.net).map_err(|e| e.to_string())?;
    let out_path = a
        .out
        .clone()
        .unwrap_or_else(|| a.net.with_extension("hunt.cert.json"));
    cli::check_output_path(&out_path)?;
    cli::refuse_overwriting_inputs(&out_path, &[&a.net])?;
    let (rho_lo, rho_hi) = rho_rational_enclosure(loaded.network.widths.len(), 128);
    preflight(&loaded, Some(&eps), (&rho_lo, &rho_hi))?;
    let mut opts = HuntOptions::new(eps, (rho_lo, rho_hi));
    opts.starts = a.starts as usize;
    opts.seed = a.seed;
    opts.time_limit = time_limit;
    opts.max_steps = a.max_steps as usize;
    let progress = HuntProgress::default();
    let show = a.progress || (!a.quiet && !a.json && std::io::stderr().is_terminal());
    let result = std::thread::scope(|scope| {
        if show {
            scope.spawn(|| hunt_progress_display(&progress, opts.starts));
        }
        let r = hunt(&loaded.network, &opts, &progress);
        progress.done.store(true, Ordering::Relaxed);
        r
    });
    let prefer = a.prefer.map(|k| match k {
        KindArg::Stationary => CounterexampleKind::Stationary,
        KindArg::Point => CounterexampleKind::Point,
        KindArg::ZeroDirection => CounterexampleKind::ZeroDirection,
    });
    let mut written = None;
    if let Some(best) = result.best(prefer) {
        let hint = path_hint(&a.net, &out_path);
        let cert = hunt_certificate(&loaded.network, &loaded.sha256, hint, &opts, best, &result);
        let text = cert.to_json();
        // Self-check through the file format, exactly as `verify` reads it.
        let parsed = Certificate::from_json(&text)
            .map_err(|e| format!("internal error: the certificate does not parse: {e}"))?;
        let report = check(&parsed, &loaded.network, &loaded.sha256).map_err(|r| {
            format!(
                "internal error: the checker rejects the certificate, not written: {}",
                r.0
            )
        })?;
        if report.verdict != Verdict::Violated {
            return Err("internal error: the checker does not find the verdict violated".into());
        }
        cli::write_atomically(&out_path, text.as_bytes())?;
        written = Some((best.clone(), text.len(), report.seconds));
    }
    print_hunt_summary(a, &loaded, &opts, &result, &out_path, written.as_ref());
    Ok(())
}

fn hunt_progress_display(p: &HuntProgress, total: usize) {
    hvcert::progress::show_hunt(p, total);
}

fn kind_name(k: CounterexampleKind) -> &'static str {
    match k {
        CounterexampleKind::Stationary => "stationary",
        CounterexampleKind::Point => "point",
        CounterexampleKind::ZeroDirection => "zero_direction",
    }
}

fn print_hunt_summary(
    a: &HuntArgs,
    loaded: &LoadedNetwork,
    opts: &HuntOptions,
    r: &HuntResult,
    cert_path: &Path,
    written: Option<&(Found, usize, f64)>,
) {
    let mut out = String::new();
    let dist = |v: f64| {
        if v.is_nan() {
            None
        } else {
            Some(format!("{v:.6}"))
        }
    };
    if a.json {
        let kinds = |c: &KindCount| serde_json::json!({"candidates": c.candidates, "confirmed": c.confirmed});
        let v = serde_json::json!({
            "network": loaded.sha256,
            "eps_x_star": opts.eps.0.to_string(),
            "eps_rho": opts.eps.1.to_string(),
            "starts": r.starts,
            "seed": opts.seed,
            "hunt_seconds": r.seconds,
            "stationary": kinds(&r.stationary),
            "point": kinds(&r.point),
            "zero_direction": kinds(&r.zero_direction),
            "found": r.found.iter().map(|f| serde_json::json!({
                "kind": kind_name(f.kind),
                "point": f.point.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
                "dist_x_star": dist(f.dist_x_star),
                "dist_rho": dist(f.dist_rho),
                "why": f.why,
            })).collect::<Vec<_>>(),
            "verdict": if written.is_some() { "violated" } else { "no counterexample found" },
            "counterexample": written.map(|(f, _, _)| serde_json::json!({
                "kind": kind_name(f.kind),
                "point": f.point.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
            })),
            "certificate": written.map(|_| cert_path.display().to_string()),
            "certificate_bytes": written.map(|w| w.1),
            "verify_seconds": written.map(|w| w.2),
        });
        outln!(out, "{v}");
        print_out(&out);
        return;
    }
    outln!(out, "{}", network_line(loaded));
    outln!(
        out,
        "claim        outside B(x*, {}|x*|) u B(-rho_d x*, {}|x*|) (mode given)",
        rational_to_decimal(&opts.eps.0, 6),
        rational_to_decimal(&opts.eps.1, 6)
    );
    outln!(
        out,
        "hunt         {} starts (seed {}), {:.2} s",
        r.starts,
        opts.seed,
        r.seconds
    );
    outln!(
        out,
        "candidates   stationary {}/{} confirmed, point {}/{}, zero_direction {}/{}",
        r.stationary.confirmed,
        r.stationary.candidates,
        r.point.confirmed,
        r.point.candidates,
        r.zero_direction.confirmed,
        r.zero_direction.candidates
    );
    const SHOWN: usize = 10;
    for f in r.found.iter().take(SHOWN) {
        let p: Vec<String> = f.point.iter().map(|v| rational_to_decimal(v, 8)).collect();
        let d = if f.dist_x_star.is_nan() {
            String::new()
        } else {
            format!(
                ": |x - x*| = {:.4}|x*|, |x + rho_d x*| = {:.4}|x*|",
                f.dist_x_star, f.dist_rho
            )
        };
        outln!(
            out,
            "found        {} ({}){d}; {}",
            kind_name(f.kind),
            p.join(", "),
            f.why
        );
    }
    if r.found.len() > SHOWN {
        outln!(out, "             … and {} more", r.found.len() - SHOWN);
    }
    match written {
        Some((f, size, secs)) => {
            outln!(
                out,
                "verdict      VIOLATED: {} counterexample confirmed exactly",
                kind_name(f.kind)
            );
            outln!(
                out,
                "certificate  {} ({} bytes), self-check VERIFIED in {:.2} s",
                cert_path.display(),
                size,
                secs
            );
        }
        None => outln!(
            out,
            "verdict      no counterexample found (not a proof; no certificate written)"
        ),
    }
    print_out(&out);
}

/// The network's path as the certificate should name it: relative to the
/// certificate's folder when they share one, absolute otherwise.
fn path_hint(net: &Path, cert: &Path) -> Option<String> {
    let net_abs = std::fs::canonicalize(net).ok()?;
    let cert_dir = cert
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let cert_dir = std::fs::canonicalize(cert_dir).ok()?;
    match net_abs.strip_prefix(&cert_dir) {
        Ok(rel) => Some(rel.to_string_lossy().into_owned()),
        Err(_) => Some(net_abs.to_string_lossy().into_owned()),
    }
}

/// Live progress on standard error: a bar on a terminal, a log line every
/// few seconds otherwise (`--progress` into a log).
fn progress_display(p: &Progress) {
    hvcert::progress::show_search(p);
}

/// Prints; a closed pipe (`certify … | head`) is not an error.
fn print_out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn print_summary(
    a: &CertifyArgs,
    loaded: &LoadedNetwork,
    r: &SearchResult,
    cert_path: &Path,
    size: usize,
    report: Option<&Report>,
    unfinished: Option<&Unfinished>,
) {
    let mut out = String::new();
    let c = &r.certificate;
    let dec = |v: &BigRational| rational_to_decimal(v, 6);
    let t = &r.tiers;
    if a.json {
        let v = serde_json::json!({
            "verdict": c.verdict.name(),
            "network": loaded.sha256,
            "mode": if c.claim.mode == ClaimMode::Sharpest { "sharpest" } else { "given" },
            "shard": c.shard.as_ref().map(|sh| serde_json::json!({"index": sh.index, "count": sh.count, "plan_sha256": sh.plan_sha256})),
            "eps_x_star": c.claim.eps_x_star.to_string(),
            "eps_rho": c.claim.eps_rho.to_string(),
            "stationary_points_found": c.stats.get("stationary_points_found"),
            "excused_points": excused_points(loaded, c).iter().map(ExcusedPoint::to_json).collect::<Vec<_>>(),
            "sharpness": witnessed(loaded, c).map(|sh| sh.to_json(&c.claim.eps_x_star, &c.claim.eps_rho)),
            "counterexample": c.counterexample.as_ref().map(|x| x.point.iter().map(|v| v.to_string()).collect::<Vec<_>>()),
            "certificate": cert_path.display().to_string(),
            "certificate_bytes": size,
            "max_depth": r.max_depth_seen,
            "certify_seconds": r.seconds,
            "zero_seconds": r.zero_seconds,
            "cone_tiers": serde_json::json!({
                "binary64": {"proved": t.cone[0][0], "failed": t.cone[0][1]},
                "mpfr": {"proved": t.cone[1][0], "failed": t.cone[1][1]},
                "exact": {"proved": t.cone[2][0], "failed": t.cone[2][1]},
            }),
            "zero_tiers": serde_json::json!({
                "binary64": {"proved": t.zero[0][0], "failed": t.zero[0][1]},
                "mpfr": {"proved": t.zero[1][0], "failed": t.zero[1][1]},
                "exact": {"proved": t.zero[2][0], "failed": t.zero[2][1]},
            }),
            "zero_corners": {"descent_binary64": t.zero_corners[0], "exact": t.zero_corners[1]},
            "zero_first_layer": {"proved": t.zero_first[0], "failed": t.zero_first[1]},
            "crease_binary64": {"proved": t.crease[0], "failed": t.crease[1], "left_to_exact": t.crease[2]},
            "region_points": {"outside_binary64": t.region_points[0], "exact": t.region_points[1]},
            "verify_seconds": report.map(|r| r.seconds),
            "self_check": match (report, unfinished) {
                (Some(_), _) => "verified",
                (None, Some(_)) => "not_finished",
                (None, None) => "skipped",
            },
            "self_check_note": unfinished.map(|u| u.to_string()),
            "cells": report.map(|r| serde_json::json!({
                "region": r.counts.region, "crease": r.counts.crease, "cone": r.counts.cone, "pairs": r.counts.pairs,
                "excluded": r.counts.excluded, "undecided": r.counts.undecided, "zero": r.counts.zero,
            })),
        });
        outln!(out, "{v}");
        print_out(&out);
        return;
    }
    outln!(out, "{}", network_line(loaded));
    let claim = &c.claim;
    let excused = excused_points(loaded, c);
    let balls = format!(
        "outside B(x*, {}|x*|) u B(-rho_d x*, {}|x*|){}",
        dec(&claim.eps_x_star),
        dec(&claim.eps_rho),
        if excused.iter().any(|p| !p.in_e) {
            " and x* itself"
        } else {
            ""
        }
    );
    if let Some(sh) = &c.shard {
        let parts = c.cover.as_ref().map_or(0, |cv| cv.faces.len());
        outln!(
            out,
            "shard        {}/{} of plan {}…: {parts} part(s); the verdict is about these parts (merge the shards with certify merge)",
            sh.index,
            sh.count,
            &sh.plan_sha256[..12]
        );
    }
    match c.verdict {
        Verdict::Holds => outln!(out, "verdict      HOLDS: -vbar is a strict descent direction {balls}, and 0 is a local maximum"),
        Verdict::Violated => outln!(out, "verdict      VIOLATED: see the counterexample"),
        Verdict::Unknown => outln!(out, "verdict      UNKNOWN: some cells were not decided (listed by verify)"),
    }
    if claim.mode == ClaimMode::Sharpest {
        outln!(
            out,
            "sharpest     eps1* = {} around x*, eps2* = {} around -rho_d x* (relative to |x*|)",
            dec(&claim.eps_x_star),
            dec(&claim.eps_rho)
        );
    }
    if let Some(sh) = witnessed(loaded, c) {
        outln!(
            out,
            "witnessed    {}",
            sh.describe(&claim.eps_x_star, &claim.eps_rho)
        );
    }
    for p in &excused {
        outln!(
            out,
            "excused      stationary point {} (vbar = 0: listed in the claim)",
            p.describe()
        );
    }
    if let Some(cx) = &c.counterexample {
        let p: Vec<String> = cx.point.iter().map(|v| v.to_string()).collect();
        outln!(out, "counterexample {:?} at ({})", cx.kind, p.join(", "));
    }
    if !r.stationary.is_empty() {
        outln!(
            out,
            "stationary   {} point(s) inside their own region besides x*:",
            r.stationary.len()
        );
        for f in &r.stationary {
            let p: Vec<String> = f.point.iter().map(|v| rational_to_decimal(v, 8)).collect();
            outln!(
                out,
                "             ({}): |x - x*| = {:.4}|x*|, |x + rho_d x*| = {:.4}|x*|",
                p.join(", "),
                f.dist_x_star,
                f.dist_rho
            );
        }
    }
    if let Some(rep) = report {
        let n = &rep.counts;
        outln!(
            out,
            "cells        {} (region {} / crease {} / cone {} / pairs {} / excluded {} / undecided {}), (P2) {} boxes, depth {}",
            n.cells() + n.undecided,
            n.region,
            n.crease,
            n.cone,
            n.pairs,
            n.excluded,
            n.undecided,
            n.zero,
            r.max_depth_seen
        );
    }
    outln!(
        out,
        "certificate  {} ({} bytes){}",
        cert_path.display(),
        size,
        match report {
            Some(rep) => format!(", self-check VERIFIED in {:.2} s", rep.seconds),
            None => match unfinished {
                Some(u) => format!(", NOT self-checked: {u} (check it with verify)"),
                None => ", not self-checked (--no-verify)".into(),
            },
        }
    );
    if t.cone
        .iter()
        .chain(&t.zero)
        .flatten()
        .chain(&t.zero_first)
        .any(|&n| n > 0)
    {
        outln!(
            out,
            "tiers        Cone: {}; Crease: binary64 {} / {}, exact {} tried; Zero: first-layer {} / {}, {}, corners: binary64 {} / exact {}",
            tier_pairs(&t.cone, true),
            t.crease[0],
            t.crease[1],
            t.crease[2],
            t.zero_first[0],
            t.zero_first[1],
            tier_pairs(&t.zero, false),
            t.zero_corners[0],
            t.zero_corners[1]
        );
    }
    outln!(
        out,
        "time         certify {:.2} s ((P2) {:.2} s)",
        r.seconds,
        r.zero_seconds
    );
    print_out(&out);
}

/// Before any search: a certificate for this network and claim must be one
/// the format accepts (latent dimension, sizes of the numbers), or the run
/// would end in an unwritable certificate. A stand-in certificate with the
/// same network, claim and a one-point counterexample goes through the
/// writer and the reader.
fn preflight(
    loaded: &LoadedNetwork,
    eps: Option<&(BigRational, BigRational)>,
    rho: (&BigRational, &BigRational),
) -> Result<(), String> {
    let net = &loaded.network;
    let target: Vec<BigRational> = net
        .target
        .iter()
        .filter_map(|&v| f64_to_rational(v))
        .collect();
    let (e1, e2) = eps.cloned().unwrap_or_default();
    let probe = Certificate {
        network_sha256: loaded.sha256.clone(),
        network_path: None,
        latent: net.latent,
        claim: Claim {
            mode: if eps.is_some() {
                ClaimMode::Given
            } else {
                ClaimMode::Sharpest
            },
            eps_x_star: e1,
            eps_rho: e2,
            rho_lo: rho.0.clone(),
            rho_hi: rho.1.clone(),
            stationary_points: vec![target.clone()],
        },
        shard: None,
        verdict: Verdict::Violated,
        cover: None,
        radius_witnesses: Vec::new(),
        counterexample: Some(Counterexample {
            kind: CounterexampleKind::Point,
            point: target,
        }),
        stats: Default::default(),
    };
    Certificate::from_json(&probe.to_json())
        .map(|_| ())
        .map_err(|e| format!("no certificate can be written for this run: {e}"))
}

/// The claim's listed stationary points with their distances.
fn excused_points(loaded: &LoadedNetwork, c: &Certificate) -> Vec<ExcusedPoint> {
    let target: Vec<BigRational> = loaded
        .network
        .target
        .iter()
        .filter_map(|&v| f64_to_rational(v))
        .collect();
    let e = Excluded::new(
        target,
        &c.claim.eps_x_star,
        &c.claim.eps_rho,
        c.claim.rho_lo.clone(),
        c.claim.rho_hi.clone(),
    );
    c.claim
        .stationary_points
        .iter()
        .map(|p| ExcusedPoint::new(p, &e))
        .collect()
}

/// What the certificate's radius witnesses bound (distances only: the
/// search evaluated them exactly, and the self-check re-evaluates them).
fn witnessed(loaded: &LoadedNetwork, c: &Certificate) -> Option<Sharpness> {
    if c.radius_witnesses.is_empty() {
        return None;
    }
    let e = Excluded::of_claim(&loaded.network, &c.claim);
    let (below_x_star, below_rho) = sharpness::bounds(&e, &c.radius_witnesses);
    Some(Sharpness {
        witnesses: c.radius_witnesses.len(),
        below_x_star,
        below_rho,
    })
}

fn main() -> ExitCode {
    cli::ignore_file_size_signal();
    let args = match cli::parse_args::<Cli>("certify") {
        Ok(a) => a,
        Err(code) => return code,
    };
    let result = match args.command {
        // A merge has its own exit statuses (1: rejected, 3: not checked).
        Some(Command::Merge(m)) => run_merge(&m),
        command => run(Cli {
            command,
            certify: args.certify,
        })
        .map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("certify: {e}");
            ExitCode::from(2)
        }
    }
}

/// The summary's first line: the network file and its shape.
fn network_line(loaded: &LoadedNetwork) -> String {
    let net = &loaded.network;
    let widths: Vec<String> = net.widths.iter().map(|n| n.to_string()).collect();
    format!(
        "network      {} (k = {}, widths {}, {})",
        loaded.path.display(),
        net.latent,
        widths.join("/"),
        match net.measurement {
            Measurement::Identity => "A = I".to_string(),
            Measurement::Matrix { m } => format!("m = {m}"),
        }
    )
}

/// `[proved, failed]` per tier (binary64, MPFR, exact) as `binary64 P / F,
/// MPFR P / F, exact P / F`; `words`: the first pair as `P proved / F
/// failed`.
fn tier_pairs(t: &[Vec<u64>; 3], words: bool) -> String {
    let first = if words {
        format!("{} proved / {} failed", t[0][0], t[0][1])
    } else {
        format!("{} / {}", t[0][0], t[0][1])
    };
    format!(
        "binary64 {first}, MPFR {} / {}, exact {} / {}",
        t[1][0], t[1][1], t[2][0], t[2][1]
    )
}
