//! Loss and metric curves of a [`History`], drawn with plotters as PNG or SVG and written
//! atomically.
//!
//! One panel per quantity (`loss`, each output's loss, each metric), with the training curve and,
//! when logged, its `val_` counterpart. PNG text uses a bundled DejaVu Sans (see
//! `assets/DejaVuSans-LICENSE.txt`), so plots look the same on machines without fonts.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{FitError, Result};
use crate::history::{History, write_atomically};

/// Pixel size of one panel.
const PANEL: (u32, u32) = (640, 300);
const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn plot_error(e: impl std::fmt::Display) -> FitError {
    FitError::Io(format!("drawing the plot failed: {e}"))
}

/// The quantities to plot: every logged key without the `val_` prefix, `loss` first.
fn panels(history: &History) -> Vec<String> {
    let mut names: Vec<String> = vec![];
    for key in history.values.keys() {
        let base = key.strip_prefix("val_").unwrap_or(key).to_string();
        if !names.contains(&base) {
            names.push(base);
        }
    }
    names.sort_by_key(|n| (n != "loss", n.clone()));
    names
}

/// (epoch, value) points of `key`, skipping non-finite values (a NaN epoch leaves a gap).
fn points(history: &History, key: &str) -> Vec<(f64, f64)> {
    history
        .get(key)
        .unwrap_or(&[])
        .iter()
        .zip(history.epochs_of(key))
        .filter(|(v, _)| v.is_finite())
        .map(|(v, e)| ((*e + 1) as f64, *v))
        .collect()
}

/// A y tick label: plain decimals in the usual range, scientific notation outside it.
fn tick(y: f64) -> String {
    let a = y.abs();
    if a == 0.0 || (1e-3..1e5).contains(&a) {
        let s = format!("{y:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{y:.2e}")
    }
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, history: &History, name: &str) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let train = points(history, name);
    let val = points(history, &format!("val_{name}"));
    let all = || train.iter().chain(&val);
    let (x0, x1) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y0, y1) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
    if !x0.is_finite() {
        // Only non-finite values were logged: say so instead of drawing an empty frame.
        area.draw(&Text::new(format!("{name}: no finite values"), (20, 20), (FONT, 16))).map_err(plot_error)?;
        return Ok(());
    }
    let pad = ((y1 - y0).abs() * 0.05).max(1e-12);
    let (y0, y1) = (if y0 >= 0.0 { (y0 - pad).max(0.0) } else { y0 - pad }, y1 + pad);
    let (x0, x1) = if x1 > x0 { (x0, x1) } else { (x0 - 0.5, x1 + 0.5) };
    let mut chart = ChartBuilder::on(area)
        .caption(name, (FONT, 18))
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_labels(((x1 - x0) as usize + 1).min(12))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| tick(*y))
        .label_style((FONT, 12))
        .draw()
        .map_err(plot_error)?;
    for (series, label, color) in [(&train, name.to_string(), BLUE), (&val, format!("val_{name}"), RED)] {
        if series.is_empty() {
            continue;
        }
        chart
            .draw_series(LineSeries::new(series.iter().copied(), color.stroke_width(2)))
            .map_err(plot_error)?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        chart.draw_series(series.iter().map(|p| Circle::new(*p, 3, color.filled()))).map_err(plot_error)?;
    }
    chart
        .configure_series_labels()
        .label_font((FONT, 12))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(plot_error)?;
    Ok(())
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, history: &History, names: &[String]) -> Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(plot_error)?;
    for (area, name) in root.split_evenly((names.len(), 1)).iter().zip(names) {
        draw_panel(area, history, name)?;
    }
    root.present().map_err(plot_error)
}

fn checked_panels(history: &History) -> Result<Vec<String>> {
    let names = panels(history);
    if names.is_empty() || history.epochs.is_empty() {
        return Err(FitError::Data("nothing to plot: the history has no epochs".into()));
    }
    Ok(names)
}

fn size(panels: usize) -> (u32, u32) {
    (PANEL.0, PANEL.1 * u32::try_from(panels).unwrap_or(u32::MAX / PANEL.1).min(64))
}

impl History {
    /// The curves as an SVG document.
    ///
    /// # Errors
    /// [`FitError::Data`] if the history is empty.
    pub fn to_svg(&self) -> Result<String> {
        let names = checked_panels(self)?;
        let mut svg = String::new();
        draw(SVGBackend::with_string(&mut svg, size(names.len())).into_drawing_area(), self, &names)?;
        Ok(svg)
    }

    /// The curves as PNG bytes (RGB, 640 pixels wide, 300 per panel).
    ///
    /// # Errors
    /// [`FitError::Data`] if the history is empty; [`FitError::Io`] if drawing or encoding fails.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        REGISTER.call_once(|| {
            // The bundled font is valid; were it not, drawing text fails below with a typed error.
            let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
        });
        let names = checked_panels(self)?;
        let (w, h) = size(names.len());
        let mut rgb = vec![0u8; w as usize * h as usize * 3];
        let backend = BitMapBackend::<plotters::backend::RGBPixel>::with_buffer_and_format(&mut rgb, (w, h))
            .map_err(plot_error)?;
        draw(backend.into_drawing_area(), self, &names)?;
        let mut out = vec![];
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(plot_error)?;
        writer.write_image_data(&rgb).map_err(plot_error)?;
        writer.finish().map_err(plot_error)?;
        Ok(out)
    }

    /// Writes the curves to `path` atomically, as PNG or SVG by its extension.
    ///
    /// ```
    /// # use std::collections::BTreeMap;
    /// let mut history = objectives_fit::History::default();
    /// history.epochs = vec![0, 1, 2];
    /// history.values.insert("loss".into(), vec![1.0, 0.5, 0.3]);
    /// history.values.insert("val_loss".into(), vec![1.1, 0.6, 0.4]);
    /// let dir = tempfile::tempdir()?;
    /// history.plot(dir.path().join("history.png"))?;
    /// history.plot(dir.path().join("history.svg"))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`FitError::Config`] for another extension; [`FitError::Io`] naming the path.
    pub fn plot(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let bytes = match ext.as_deref() {
            Some("png") => self.to_png()?,
            Some("svg") => self.to_svg()?.into_bytes(),
            _ => {
                return Err(FitError::Config(format!(
                    "cannot plot to {}: give a path ending in .png or .svg",
                    path.display()
                )));
            }
        };
        write_atomically(path, &bytes)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn history() -> History {
        let mut h = History { epochs: vec![0, 1, 2, 3], ..History::default() };
        h.values.insert("loss".into(), vec![1.0, 0.5, f64::NAN, 0.2]);
        h.values.insert("val_loss".into(), vec![1.2, 0.7, 0.4, 0.3]);
        h.values.insert("mean_absolute_error".into(), vec![0.9, 0.6, 0.5, 0.4]);
        h
    }

    #[test]
    fn panels_put_loss_first_and_pair_val() {
        assert_eq!(panels(&history()), vec!["loss".to_string(), "mean_absolute_error".to_string()]);
    }

    #[test]
    fn png_is_a_decodable_image_with_drawn_pixels() {
        let bytes = history().to_png().unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (640, 600));
        let pixels = &buf[..info.buffer_size()];
        // Blue and red curve pixels are present (not just a white page).
        let has = |r: u8, g: u8, b: u8| pixels.chunks(3).any(|p| p == [r, g, b]);
        assert!(has(0, 0, 255) && has(255, 0, 0));
        // Text was rendered: anti-aliased grey glyph pixels exist.
        assert!(pixels.chunks(3).any(|p| p[0] == p[1] && p[1] == p[2] && p[0] > 40 && p[0] < 200));
    }

    #[test]
    fn svg_names_every_curve_and_skips_nan() {
        let svg = history().to_svg().unwrap();
        for name in ["loss", "val_loss", "mean_absolute_error", "epoch"] {
            assert!(svg.contains(name), "{name} missing");
        }
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn empty_history_and_bad_extension_are_errors() {
        assert!(matches!(History::default().to_png(), Err(FitError::Data(_))));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jpg");
        assert!(matches!(history().plot(&path), Err(FitError::Config(_))));
        assert!(!path.exists());
    }
}
