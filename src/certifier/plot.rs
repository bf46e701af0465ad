//! Pictures of a certificate (issue 12, item 2), PNG or SVG by the output's
//! extension. Display only: every coordinate here is binary64.
//!
//! - `k = 2`: the latent plane around `x*` and `-rho_d x*`: each (P1) cell
//!   as its polygon (the cone over its direction interval cut at its radii;
//!   unbounded cells clipped at the view), coloured by the rule that decided
//!   it, the two balls of the claim, `x*`, `-rho_d x*`, the stationary points
//!   the search found and the counterexample.
//! - any `k`: every leaf as a point, its box width (log2) against its
//!   distance to the nearer centre (relative to `|x*|`; unbounded cells at
//!   the top), coloured by rule: where the work went.
//!
//! Text needs a font: DejaVu Sans from the usual system folders, or the file
//! named by `HVCERT_FONT`; without one the picture has no labels.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::checker::geometry::Cell;
use crate::exact::dyadic::Dyadic;
use crate::format::certificate::{Certificate, Node, Rule};
use crate::format::network::Network;

/// Leaves of a certificate's (P1) trees with their cells.
pub fn leaves(cert: &Certificate, k: usize) -> Result<Vec<(Rule, Cell)>, String> {
    let mut out = Vec::new();
    let Some(cover) = &cert.cover else {
        return Ok(out);
    };
    for f in &cover.faces {
        let mut stack = vec![(&f.tree, Cell::root(f.face, k))];
        while let Some((node, cell)) = stack.pop() {
            match node {
                Node::Leaf(r) => out.push((*r, cell)),
                Node::Split { axis, lo, hi } => {
                    let (a, b) = cell.split(*axis);
                    stack.push((lo, a));
                    stack.push((hi, b));
                }
                Node::Radial { at, inner, outer } => {
                    let split = Dyadic::from_rational(at).and_then(|d| cell.split_radial(&d));
                    let (a, b) = split.ok_or("a radial split outside its cell")?;
                    stack.push((inner, a));
                    stack.push((outer, b));
                }
            }
        }
    }
    Ok(out)
}

fn f(v: &Dyadic) -> f64 {
    crate::certifier::search::approx(&v.to_rational())
}

fn rule_colour(r: Rule) -> RGBColor {
    match r {
        Rule::Region => RGBColor(166, 206, 227),
        Rule::Crease => RGBColor(51, 160, 44),
        Rule::Cone => RGBColor(31, 120, 180),
        Rule::Pairs => RGBColor(255, 127, 0),
        Rule::Excluded(_) => RGBColor(200, 200, 200),
        Rule::Undecided => RGBColor(227, 26, 28),
        Rule::Zero | Rule::ZeroFirst => RGBColor(106, 61, 154),
    }
}

const RULES: [(&str, Rule); 6] = [
    ("region", Rule::Region),
    ("crease", Rule::Crease),
    ("cone", Rule::Cone),
    ("pairs", Rule::Pairs),
    (
        "excluded",
        Rule::Excluded(crate::format::certificate::Ball::XStar),
    ),
    ("undecided", Rule::Undecided),
];

/// Registers a font for labels; `false` when none is found.
pub fn font_available() -> bool {
    use std::sync::OnceLock;
    static FONT: OnceLock<bool> = OnceLock::new();
    *FONT.get_or_init(|| {
        let mut paths: Vec<String> = std::env::var("HVCERT_FONT").into_iter().collect();
        paths.extend(
            [
                "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/dejavu/DejaVuSans.ttf",
                "/usr/share/fonts/TTF/DejaVuSans.ttf",
            ]
            .map(String::from),
        );
        for p in paths {
            if let Ok(bytes) = std::fs::read(&p) {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return true;
                }
            }
        }
        false
    })
}

/// What [`plot`] drew.
#[derive(Debug, Default)]
pub struct PlotSummary {
    pub kind: &'static str,
    pub cells: usize,
    pub labels: bool,
}

/// Draws `cert` (for `net`) into `out` (`.png` or `.svg`).
pub fn plot(cert: &Certificate, net: &Network, out: &Path) -> Result<PlotSummary, String> {
    let leaves = leaves(cert, net.latent)?;
    let labels = font_available();
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let size = (900, 900);
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", out.display());
    let kind = if net.latent == 2 { "plane" } else { "cells" };
    match ext.as_deref() {
        Some("png") => {
            let root = BitMapBackend::new(out, size).into_drawing_area();
            draw(&root, cert, net, &leaves, labels).map_err(|e| err(&e))?;
            root.present().map_err(|e| err(&e))?;
        }
        Some("svg") => {
            let root = SVGBackend::new(out, size).into_drawing_area();
            draw(&root, cert, net, &leaves, labels).map_err(|e| err(&e))?;
            root.present().map_err(|e| err(&e))?;
        }
        _ => return Err(err(&"the output must end in .png or .svg")),
    }
    Ok(PlotSummary {
        kind,
        cells: leaves.len(),
        labels,
    })
}

type DrawResult = Result<(), String>;

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    cert: &Certificate,
    net: &Network,
    leaves: &[(Rule, Cell)],
    labels: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let e = |x: &dyn std::fmt::Display| x.to_string();
    root.fill(&WHITE).map_err(|x| e(&x))?;
    if net.latent == 2 {
        plane(root, cert, net, leaves, labels)
    } else {
        cells(root, cert, net, leaves, labels)
    }
}

fn centres(cert: &Certificate, net: &Network) -> (Vec<f64>, Vec<f64>, f64) {
    let x = net.target.clone();
    let rho = (crate::certifier::search::approx(&cert.claim.rho_lo)
        + crate::certifier::search::approx(&cert.claim.rho_hi))
        / 2.0;
    let m: Vec<f64> = x.iter().map(|v| -rho * v).collect();
    let n = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    (x, m, n)
}

fn plane<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    cert: &Certificate,
    net: &Network,
    leaves: &[(Rule, Cell)],
    labels: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let e = |x: &dyn std::fmt::Display| x.to_string();
    let (x, m, n) = centres(cert, net);
    let e1 = crate::certifier::search::approx(&cert.claim.eps_x_star) * n;
    let e2 = crate::certifier::search::approx(&cert.claim.eps_rho) * n;
    // The view: both centres and their balls, with a margin.
    let r = (1.6 * n).max(e1 + n).max(e2 + n).min(1e300);
    let view = r * 1.15;
    let mut chart = ChartBuilder::on(root);
    chart.margin(20);
    if labels {
        chart
            .caption(
                format!("verdict {} (k = 2): cells by rule", cert.verdict.name()),
                ("sans-serif", 22),
            )
            .x_label_area_size(35)
            .y_label_area_size(55);
    }
    let mut chart = chart
        .build_cartesian_2d(-view..view, -view..view)
        .map_err(|x| e(&x))?;
    if labels {
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("x_1")
            .y_desc("x_2")
            .draw()
            .map_err(|x| e(&x))?;
    }
    // ||t p||_inf = t on the cube surface: capping t at the view keeps every
    // polygon inside the plotted square (no clipping needed).
    let cap = view;
    for (rule, c) in leaves {
        let corners = c.corners();
        if corners.len() != 2 {
            continue;
        }
        let p: Vec<(f64, f64)> = corners.iter().map(|v| (f(&v[0]), f(&v[1]))).collect();
        let t_lo = f(&c.t_lo);
        if t_lo >= cap {
            continue;
        }
        let t_hi = c.t_hi.as_ref().map_or(cap, f).min(cap);
        let poly = vec![
            (t_lo * p[0].0, t_lo * p[0].1),
            (t_lo * p[1].0, t_lo * p[1].1),
            (t_hi * p[1].0, t_hi * p[1].1),
            (t_hi * p[0].0, t_hi * p[0].1),
        ];
        let colour = rule_colour(*rule);
        chart
            .draw_series(std::iter::once(Polygon::new(poly.clone(), colour.filled())))
            .map_err(|x| e(&x))?;
        let mut outline = poly;
        outline.push(outline[0]);
        chart
            .draw_series(std::iter::once(PathElement::new(
                outline,
                BLACK.mix(0.15).stroke_width(1),
            )))
            .map_err(|x| e(&x))?;
    }
    // The balls of the claim.
    for (c, radius) in [(&x, e1), (&m, e2)] {
        if radius > 0.0 {
            let circle: Vec<(f64, f64)> = (0..=180)
                .map(|i| {
                    let a = i as f64 * std::f64::consts::TAU / 180.0;
                    (c[0] + radius * a.cos(), c[1] + radius * a.sin())
                })
                .collect();
            chart
                .draw_series(std::iter::once(PathElement::new(
                    circle,
                    BLACK.stroke_width(2),
                )))
                .map_err(|x| e(&x))?;
        }
    }
    let mut marks: Vec<((f64, f64), RGBColor, &str)> = vec![
        ((x[0], x[1]), BLACK, "x*"),
        ((m[0], m[1]), BLACK, "-rho_d x*"),
    ];
    let found = cert
        .stats
        .get("stationary_points_found")
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default();
    for s in &found {
        let coords: Vec<f64> = s["point"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str())
                    .filter_map(crate::exact::rational::parse_rational)
                    .map(|q| crate::certifier::search::approx(&q))
                    .collect()
            })
            .unwrap_or_default();
        let is_cx = cert.counterexample.as_ref().is_some_and(|cx| {
            let p: Vec<f64> = cx
                .point
                .iter()
                .map(crate::certifier::search::approx)
                .collect();
            p == coords
        });
        if coords.len() == 2 && !is_cx {
            marks.push(((coords[0], coords[1]), RGBColor(255, 127, 0), "stationary"));
        }
    }
    if let Some(cx) = &cert.counterexample {
        let p: Vec<f64> = cx
            .point
            .iter()
            .map(crate::certifier::search::approx)
            .collect();
        if p.len() == 2 {
            marks.push(((p[0], p[1]), RGBColor(227, 26, 28), "counterexample"));
        }
    }
    for ((px, py), colour, name) in marks {
        chart
            .draw_series(std::iter::once(Circle::new((px, py), 5, colour.filled())))
            .map_err(|x| e(&x))?;
        if labels {
            chart
                .draw_series(std::iter::once(Text::new(
                    name.to_string(),
                    (px + view * 0.02, py + view * 0.02),
                    ("sans-serif", 16),
                )))
                .map_err(|x| e(&x))?;
        }
    }
    if labels {
        legend(root)?;
    }
    Ok(())
}

fn legend<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let e = |x: &dyn std::fmt::Display| x.to_string();
    let (w, _) = root.dim_in_pixel();
    let x0 = w as i32 - 160;
    root.draw(&Rectangle::new(
        [(x0 - 8, 62), (x0 + 120, 70 + 22 * RULES.len() as i32)],
        WHITE.mix(0.9).filled(),
    ))
    .map_err(|x| e(&x))?;
    for (i, (name, rule)) in RULES.iter().enumerate() {
        let y = 70 + 22 * i as i32;
        root.draw(&Rectangle::new(
            [(x0, y), (x0 + 16, y + 14)],
            rule_colour(*rule).filled(),
        ))
        .map_err(|x| e(&x))?;
        root.draw(&Text::new(
            name.to_string(),
            (x0 + 22, y),
            ("sans-serif", 15),
        ))
        .map_err(|x| e(&x))?;
    }
    Ok(())
}

fn cells<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    cert: &Certificate,
    net: &Network,
    leaves: &[(Rule, Cell)],
    labels: bool,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let e = |x: &dyn std::fmt::Display| x.to_string();
    let (x, m, n) = centres(cert, net);
    // (log2 width, distance to the nearer centre / |x*|; 4 for unbounded).
    let top = 4.0;
    let pts: Vec<(Rule, f64, f64)> = leaves
        .iter()
        .map(|(r, c)| {
            let w = c.widest().map_or(1.0, |(_, w)| f(&w)).max(1e-300);
            let p: Vec<f64> =
                c.lo.iter()
                    .zip(&c.hi)
                    .map(|(a, b)| (f(a) + f(b)) / 2.0)
                    .collect();
            let d = match &c.t_hi {
                Some(h) => {
                    let t = (f(&c.t_lo) + f(h)) / 2.0;
                    let dist = |q: &[f64]| {
                        p.iter()
                            .zip(q)
                            .map(|(a, b)| (t * a - b).powi(2))
                            .sum::<f64>()
                            .sqrt()
                            / n
                    };
                    dist(&x).min(dist(&m)).min(top)
                }
                None => top,
            };
            (*r, w.log2(), d)
        })
        .collect();
    let lo = pts.iter().map(|p| p.1).fold(0.0f64, f64::min).floor() - 0.5;
    let mut chart = ChartBuilder::on(root);
    chart.margin(20);
    if labels {
        chart
            .caption(
                format!(
                    "verdict {} (k = {}): {} cells by rule",
                    cert.verdict.name(),
                    net.latent,
                    pts.len()
                ),
                ("sans-serif", 22),
            )
            .x_label_area_size(40)
            .y_label_area_size(60);
    }
    let mut chart = chart
        .build_cartesian_2d(lo..1.0, 0.0..top + 0.2)
        .map_err(|x| e(&x))?;
    if labels {
        chart
            .configure_mesh()
            .x_desc("log2 of the direction box's width")
            .y_desc("distance to the nearer centre / |x*| (top: unbounded)")
            .draw()
            .map_err(|x| e(&x))?;
    }
    // A small deterministic jitter so equal widths do not hide each other.
    let mut state = 0x9e3779b97f4a7c15u64;
    let mut jitter = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    for (rule, w, d) in pts {
        let p = (
            w + 0.6 * jitter(),
            d + if d >= top { 0.15 * jitter() } else { 0.0 },
        );
        chart
            .draw_series(std::iter::once(Circle::new(
                p,
                2,
                rule_colour(rule).filled(),
            )))
            .map_err(|x| e(&x))?;
    }
    if labels {
        legend(root)?;
    }
    Ok(())
}
