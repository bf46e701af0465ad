//! `certify`: sample networks, inspect them (and, later, certify them).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hvcert::certifier::inspect::{describe, describe_point};
use hvcert::certifier::sample::{sample_network, SampleSpec};
use hvcert::exact::rational::parse_rational;
use hvcert::format::network::{read_network_file, write_network_file, Measurement};
use num_rational::BigRational;

#[derive(Parser)]
#[command(
    name = "certify",
    version,
    about = "Certify the Hand-Voroninski descent landscape of a concrete ReLU network"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Draw a network from the paper's random model, reproducibly.
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
    /// Show a network's dimensions, hash, |x*| and rho_d, and exact values at a point.
    Inspect {
        file: PathBuf,
        /// A point x as comma-separated rationals (e.g. 1/2,-0.25,3).
        #[arg(long, allow_hyphen_values = true)]
        at: Option<String>,
    },
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
    match cli.command {
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
            let hash = write_network_file(&out, &net).map_err(|e| e.to_string())?;
            println!("wrote {} (sha256 {hash})", out.display());
            Ok(())
        }
        Command::Inspect { file, at } => {
            let loaded = read_network_file(&file).map_err(|e| e.to_string())?;
            print!(
                "{}",
                describe(&loaded).map_err(|e| format!("{}: {e}", file.display()))?
            );
            if let Some(at) = at {
                let x = parse_point(&at, loaded.network.latent)?;
                print!(
                    "{}",
                    describe_point(&loaded, &x).map_err(|e| format!("{}: {e}", file.display()))?
                );
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("certify: {e}");
            ExitCode::from(2)
        }
    }
}
