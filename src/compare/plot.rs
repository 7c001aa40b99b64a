//! The comparison's plots, as SVG and PNG (plotters): the LSH S-curve with its
//! empirical points, precision against recall across thresholds, and time per run.
//!
//! Text needs a TrueType font (plotters' `ab_glyph` backend has none built in): the
//! first of `$NEARDEDUP_FONT` and a few standard DejaVu/Liberation/Arial paths that
//! exists is registered as `sans-serif`. Without one no plot is drawn, and
//! [`Plots::note`] says why.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::minhash::candidate_probability;

use super::run::RunResult;

/// Pixel size of every plot.
const SIZE: (u32, u32) = (900, 600);

/// Font files tried, in order, after `$NEARDEDUP_FONT`.
const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/Library/Fonts/Arial.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
    "C:\\Windows\\Fonts\\arial.ttf",
];

/// What [`write_plots`] produced.
#[derive(Debug, Clone, Default)]
pub struct Plots {
    /// Files written, relative to the output folder.
    pub files: Vec<String>,
    /// Why plots are missing, if they are.
    pub note: Option<String>,
}

/// Registers a TrueType font as `sans-serif` once; returns its path, or `None`
/// when no usable font was found.
pub fn ensure_font() -> Option<PathBuf> {
    static FONT: OnceLock<Option<PathBuf>> = OnceLock::new();
    FONT.get_or_init(|| {
        let candidates = std::env::var_os("NEARDEDUP_FONT")
            .map(PathBuf::from)
            .into_iter()
            .chain(FONT_PATHS.iter().map(PathBuf::from));
        for path in candidates {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            // Registered fonts live for the whole process.
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                return Some(path);
            }
        }
        None
    })
    .clone()
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Draws one chart to `<dir>/<name>.svg` and `<dir>/<name>.png`.
macro_rules! render {
    ($dir:expr, $name:expr, $files:expr, $chart:ident ( $($arg:expr),* )) => {{
        let svg = $dir.join(format!("{}.svg", $name));
        $chart(SVGBackend::new(&svg, SIZE).into_drawing_area(), $($arg),*)
            .map_err(|e| plot_error(&svg, e))?;
        $files.push(format!("{}.svg", $name));
        let png = $dir.join(format!("{}.png", $name));
        $chart(BitMapBackend::new(&png, SIZE).into_drawing_area(), $($arg),*)
            .map_err(|e| plot_error(&png, e))?;
        $files.push(format!("{}.png", $name));
    }};
}

fn plot_error(path: &Path, e: impl std::fmt::Display) -> crate::error::Error {
    crate::error::Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(format!("cannot draw the plot: {e}")),
    }
}

/// Writes every plot for `runs` into `dir`.
pub fn write_plots(dir: &Path, runs: &[RunResult]) -> crate::error::Result<Plots> {
    let mut plots = Plots::default();
    if ensure_font().is_none() {
        plots.note =
            Some("not drawn: no TrueType font found (set NEARDEDUP_FONT to a .ttf file)".into());
        return Ok(plots);
    }
    let files = &mut plots.files;
    let mut layouts: BTreeMap<(usize, usize), Vec<&RunResult>> = BTreeMap::new();
    for r in runs.iter().filter(|r| !r.scurve.is_empty()) {
        if let Some(lsh) = r.lsh {
            layouts.entry(lsh).or_default().push(r);
        }
    }
    for (&(bands, rows), members) in &layouts {
        let name = format!("scurve-b{bands}-r{rows}");
        render!(dir, name, files, scurve_chart(bands, rows, members));
    }
    if !runs.is_empty() {
        render!(dir, "precision-recall", files, pr_chart(runs));
        render!(dir, "time", files, time_chart(runs));
    }
    Ok(plots)
}

fn colour(i: usize) -> RGBColor {
    const COLOURS: [RGBColor; 12] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
        RGBColor(0, 0, 128),
        RGBColor(128, 0, 0),
    ];
    COLOURS[i % COLOURS.len()]
}

fn scurve_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    bands: usize,
    rows: usize,
    runs: &[&RunResult],
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("LSH S-curve, {bands} bands x {rows} rows"),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(0f64..1f64, 0f64..1.05f64)?;
    chart
        .configure_mesh()
        .x_desc("Jaccard of the shingle sets")
        .y_desc("P(pair shares a band)")
        .draw()?;
    chart
        .draw_series(LineSeries::new(
            (0..=200).map(|i| {
                let s = i as f64 / 200.0;
                (s, candidate_probability(s, bands, rows))
            }),
            BLACK.stroke_width(2),
        ))?
        .label("theory 1-(1-s^r)^b")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
    // Runs that differ only in threshold-independent ways (verification) measure
    // the same pairs with the same signatures: draw each distinct curve once.
    let mut groups: Vec<(Vec<usize>, &RunResult)> = Vec::new();
    for r in runs {
        match groups
            .iter_mut()
            .find(|(_, first)| first.scurve == r.scurve)
        {
            Some((members, _)) => members.push(r.run),
            None => groups.push((vec![r.run], r)),
        }
    }
    for (i, (members, r)) in groups.iter().enumerate() {
        let c = colour(i);
        chart.draw_series(r.scurve.iter().map(|p| {
            let lo = (p.observed - 2.0 * p.sigma).max(0.0);
            let hi = (p.observed + 2.0 * p.sigma).min(1.0);
            PathElement::new(vec![(p.mean_jaccard, lo), (p.mean_jaccard, hi)], c)
        }))?;
        let cfg = &r.config;
        let names: Vec<String> = members.iter().map(|m| m.to_string()).collect();
        chart
            .draw_series(
                r.scurve
                    .iter()
                    .map(|p| Circle::new((p.mean_jaccard, p.observed), 4, c.filled())),
            )?
            .label(format!(
                "run {}: {}-{} k={}",
                names.join(", "),
                super::grid::tokenizer_name(cfg.sketch.shingle.tokenizer),
                cfg.sketch.shingle.ngram,
                cfg.sketch.num_perm
            ))
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, c.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()
}

/// Runs grouped into precision-recall curves: one per algorithm and settings
/// other than the threshold (MinHash) or the Hamming radius (SimHash).
fn pr_series(runs: &[RunResult]) -> BTreeMap<String, Vec<&RunResult>> {
    let mut series: BTreeMap<String, Vec<&RunResult>> = BTreeMap::new();
    for r in runs {
        let c = &r.config;
        let shingle = format!(
            "{}-{}",
            super::grid::tokenizer_name(c.sketch.shingle.tokenizer),
            c.sketch.shingle.ngram
        );
        let key = match c.algo {
            crate::pipeline::Algo::Minhash => format!(
                "minhash k={} {shingle} {}",
                c.sketch.num_perm,
                super::grid::verify_name(c.verify)
            ),
            crate::pipeline::Algo::Simhash if c.verify == crate::pipeline::Verify::Exact => {
                format!("simhash {shingle} exact t={}", c.threshold)
            }
            crate::pipeline::Algo::Simhash => format!("simhash {shingle}"),
            crate::pipeline::Algo::Exact => "exact".into(),
        };
        series.entry(key).or_default().push(r);
    }
    for members in series.values_mut() {
        members.sort_by(|a, b| a.eval.recall.total_cmp(&b.eval.recall));
    }
    series
}

fn pr_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    runs: &[RunResult],
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    // Precision is usually close to 1: zoom the y axis to the measured range.
    let low = runs.iter().map(|r| r.eval.precision).fold(1.0f64, f64::min);
    let floor = ((low - 0.01) * 100.0).floor().clamp(0.0, 99.0) / 100.0;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Precision vs recall (pairs), across thresholds / radii",
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(0f64..1.005f64, floor..1.0 + (1.0 - floor) * 0.02)?;
    chart
        .configure_mesh()
        .x_desc("pair recall")
        .y_desc("pair precision")
        .draw()?;
    for (i, (name, members)) in pr_series(runs).iter().enumerate() {
        let c = colour(i);
        let points: Vec<(f64, f64)> = members
            .iter()
            .map(|r| (r.eval.recall, r.eval.precision))
            .collect();
        chart.draw_series(LineSeries::new(points.clone(), c))?;
        // Marker by algorithm: circle MinHash, triangle SimHash, square exact.
        let shape = members.first().map_or(0, |r| match r.algo {
            "minhash" => 0,
            "simhash" => 1,
            _ => 2,
        });
        let style = c.filled();
        match shape {
            0 => {
                chart
                    .draw_series(points.iter().map(|&p| Circle::new(p, 4, style)))?
                    .label(name.clone())
                    .legend(move |(x, y)| Circle::new((x + 10, y), 4, style));
            }
            1 => {
                chart
                    .draw_series(points.iter().map(|&p| TriangleMarker::new(p, 6, style)))?
                    .label(name.clone())
                    .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 6, style));
            }
            _ => {
                chart
                    .draw_series(
                        points.iter().map(|&p| {
                            EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], style)
                        }),
                    )?
                    .label(name.clone())
                    .legend(move |(x, y)| Rectangle::new([(x + 6, y - 4), (x + 14, y + 4)], style));
            }
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()
}

fn time_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    runs: &[RunResult],
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let top = runs.iter().map(|r| r.total_seconds).fold(0.0f64, f64::max) * 1.1 + 1e-3;
    let n = runs.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption("Wall time per run (dark: read+sketch)", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(0.5f64..n + 0.5, 0f64..top)?;
    chart
        .configure_mesh()
        .x_desc("run (see compare.md)")
        .y_desc("seconds")
        .x_labels(runs.len().min(25))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .disable_x_mesh()
        .draw()?;
    let algos: Vec<&str> = {
        let mut a: Vec<&str> = runs.iter().map(|r| r.algo).collect();
        a.dedup();
        a.sort();
        a.dedup();
        a
    };
    for (i, algo) in algos.iter().enumerate() {
        let c = colour(i);
        let members: Vec<&RunResult> = runs.iter().filter(|r| r.algo == *algo).collect();
        chart
            .draw_series(members.iter().map(|r| {
                let x = r.run as f64;
                Rectangle::new(
                    [(x - 0.4, 0.0), (x + 0.4, r.total_seconds)],
                    c.mix(0.5).filled(),
                )
            }))?
            .label(*algo)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], c.filled()));
        chart.draw_series(members.iter().map(|r| {
            let x = r.run as f64;
            Rectangle::new([(x - 0.4, 0.0), (x + 0.4, r.sketch_seconds)], c.filled())
        }))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()
}
