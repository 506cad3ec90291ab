//! Charts as inline SVG (plotters): horizontal bars for categories, lines
//! for trends, a heat map for town × topic. Text is drawn in the page's
//! font, so Chinese labels need no embedded font; nothing is fetched.

use plotters::prelude::*;
use std::collections::HashMap;
use xuncha_queries::table::TextTable;

const FONT: &str = "sans-serif";
const BLUE: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
const RED: RGBColor = RGBColor(0xc0, 0x39, 0x2b);
const PALETTE: [RGBColor; 4] = [BLUE, RED, RGBColor(0x27, 0xae, 0x60), RGBColor(0xe6, 0x7e, 0x22)];

/// Horizontal bars, one per label, longest first as given.
pub fn bars(labels: &[String], values: &[f64], unit: &str) -> String {
    let n = labels.len().max(1);
    let height = 40 + 26 * n as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, height)).into_drawing_area();
        let max = values.iter().copied().fold(0.0, f64::max).max(1.0) * 1.1;
        let label_width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(4).clamp(4, 16) as u32 * 13 + 10;
        let chart = ChartBuilder::on(&root).margin(8).x_label_area_size(24).y_label_area_size(label_width).build_cartesian_2d(0.0..max, (0..n).into_segmented());
        let Ok(mut chart) = chart else { return String::new() };
        let _ = chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_style((FONT, 13))
            .x_label_style((FONT, 11))
            .x_desc(unit)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw();
        let _ = chart.draw_series(values.iter().enumerate().map(|(i, v)| {
            let mut bar = Rectangle::new([(0.0, SegmentValue::Exact(i)), (*v, SegmentValue::Exact(i + 1))], BLUE.filled());
            bar.set_margin(3, 3, 0, 0);
            bar
        }));
        let _ = root.present();
    }
    svg
}

/// Lines over ordered x labels (months, rounds), one per series.
pub fn lines(x_labels: &[String], series: &[(String, Vec<f64>)]) -> String {
    let n = x_labels.len().max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 260)).into_drawing_area();
        let max = series.iter().flat_map(|(_, v)| v.iter().copied()).fold(0.0, f64::max).max(1.0) * 1.15;
        let chart = ChartBuilder::on(&root).margin(10).x_label_area_size(30).y_label_area_size(50).build_cartesian_2d(0..n - 1 + usize::from(n == 1), 0.0..max);
        let Ok(mut chart) = chart else { return String::new() };
        let step = n.div_ceil(12).max(1);
        let _ = chart
            .configure_mesh()
            .x_labels(n.min(12))
            .x_label_style((FONT, 11))
            .y_label_style((FONT, 11))
            .x_label_formatter(&|i| if i % step == 0 { x_labels.get(*i).cloned().unwrap_or_default() } else { String::new() })
            .draw();
        for (k, (name, values)) in series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            if let Ok(drawn) = chart.draw_series(LineSeries::new(values.iter().enumerate().map(|(i, v)| (i, *v)), color.stroke_width(2))) {
                drawn.label(name.clone()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
            }
        }
        if series.len() > 1 {
            let _ = chart.configure_series_labels().label_font((FONT, 12)).background_style(WHITE.mix(0.8)).border_style(BLACK.mix(0.3)).draw();
        }
        let _ = root.present();
    }
    svg
}

/// Long-form rows (row label, column label, value) laid out as a grid: the
/// shape a heat map, on a page, in a report or as a Word table, is drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Row labels in the table's order.
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    values: HashMap<(String, String), f64>,
}

impl Grid {
    /// The grid of `table`'s `row` × `column` → `value`; `columns` fixes the
    /// columns and their order (default: every column label, sorted).
    pub fn from_table(table: &TextTable, row: &str, column: &str, value: &str, columns: Option<Vec<String>>) -> Grid {
        let mut rows: Vec<String> = table.column(row).into_iter().map(String::from).collect();
        rows.dedup();
        let columns = columns.unwrap_or_else(|| {
            let mut all: Vec<String> = table.column(column).into_iter().map(String::from).collect();
            all.sort();
            all.dedup();
            all
        });
        let values = table.column(row).into_iter().zip(table.column(column)).zip(table.column(value)).map(|((r, c), v)| ((r.to_string(), c.to_string()), v.parse().unwrap_or(0.0))).collect();
        Grid { rows, columns, values }
    }

    /// The value at row `i`, column `j` (0 where the table has none).
    pub fn value(&self, i: usize, j: usize) -> f64 {
        self.values.get(&(self.rows[i].clone(), self.columns[j].clone())).copied().unwrap_or(0.0)
    }

    /// The largest value shown (at least 1).
    pub fn max(&self) -> f64 {
        (0..self.rows.len()).flat_map(|i| (0..self.columns.len()).map(move |j| (i, j))).map(|(i, j)| self.value(i, j)).fold(1.0, f64::max)
    }

    /// The grid as a heat map.
    pub fn heat_map(&self) -> String {
        heat_map(&self.rows, &self.columns, |i, j| self.value(i, j))
    }
}

/// A heat map: rows × columns, darker is more.
fn heat_map(rows: &[String], columns: &[String], value: impl Fn(usize, usize) -> f64) -> String {
    let (r, c) = (rows.len().max(1), columns.len().max(1));
    let cell_w = 46u32;
    let left = 110u32;
    let top = 70u32;
    let width = left + cell_w * c as u32 + 10;
    let height = top + 24 * r as u32 + 10;
    let max = (0..rows.len()).flat_map(|i| (0..columns.len()).map(move |j| (i, j))).map(|(i, j)| value(i, j)).fold(0.0, f64::max).max(1.0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        for (j, name) in columns.iter().enumerate() {
            let x = (left + cell_w * j as u32 + 4) as i32;
            let _ = root.draw(&Text::new(name.clone(), (x, top as i32 - 8), (FONT, 12).into_font().transform(FontTransform::Rotate270)));
        }
        for (i, name) in rows.iter().enumerate() {
            let y = (top + 24 * i as u32) as i32;
            let _ = root.draw(&Text::new(name.clone(), (4, y + 5), (FONT, 12)));
            for j in 0..columns.len() {
                let v = value(i, j);
                let x = (left + cell_w * j as u32) as i32;
                let shade = 1.0 - 0.85 * (v / max);
                let color = RGBColor((255.0 * shade) as u8, (255.0 * (0.4 + 0.6 * shade)) as u8, 255);
                let _ = root.draw(&Rectangle::new([(x, y), (x + cell_w as i32 - 2, y + 22)], color.filled()));
                if v > 0.0 {
                    let ink = if v / max > 0.5 { WHITE } else { BLACK };
                    let _ = root.draw(&Text::new(format!("{v}"), (x + 14, y + 5), (FONT, 12).into_font().color(&ink)));
                }
            }
        }
        let _ = root.present();
    }
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_their_labels() {
        let svg = bars(&["死亡人员仍领取补贴".into(), "一卡多人".into()], &[12.0, 3.0], "条");
        assert!(svg.starts_with("<svg") && svg.contains("死亡人员仍领取补贴") && svg.contains("<rect"));
        let svg = lines(&["2026-01".into(), "2026-02".into(), "2026-03".into()], &[("信访".into(), vec![1.0, 4.0, 2.0])]);
        assert!(svg.contains("2026-02") && svg.contains("<polyline"));
        let svg = heat_map(&["酒埠江镇".into()], &["低保".into(), "公益岗".into()], |_, j| j as f64 * 3.0);
        assert!(svg.contains("酒埠江镇") && svg.contains("公益岗") && svg.contains(">\n3\n<"), "{svg}");
        assert!(bars(&[], &[], "条").contains("<svg"), "an empty chart still draws");
    }
}
